"""What to do with a run is decided from its folder alone (bench/running/plan.py): every branch of
plan() on hand-made folders (status, scores.json, curve.json, a checkpoint and snapshots that are
only bytes), so nothing is trained or scored here."""
import dataclasses

import metrics
from bench.running.execute import ExecutionOptions
from bench.running.plan import ALREADY_DONE, RESCORE, SKIP, SNAPSHOTS, TRAIN, Plan, Wanted, plan
from bench.running.run_folder import DONE, FAILED, RUNNING
from bench.running.spec import RunSpec
from bench.running.store import RunStore

SPEC = RunSpec("vae", "dsprites_small", 0, 30)
BETA = metrics.settings("beta_vae", quick=True)
MIG = metrics.settings("mig", quick=True)
WANTED = Wanted(final={"beta_vae": BETA}, schedule=(10, 20), curve={"beta_vae": BETA})
EVERY_STEP = {10: {"beta_vae": BETA}, 20: {"beta_vae": BETA}}


def hand_made(store, state, spec=SPEC, scores=None, curve=None, checkpoint=False, snapshots=(), detail=""):
    """A run folder as a sweep leaves it: `scores` and `curve` (step ->) name -> the settings stored."""
    folder = store.folder(spec.run_id)
    folder.path.mkdir(parents=True)
    folder.write_spec(spec.to_json())
    folder.set_status(state, detail)
    for name, settings in (scores or {}).items():
        folder.add_scores(name, settings, {f"{name}.score": 0.5})
    for step, stored in (curve or {}).items():
        for name, settings in stored.items():
            folder.add_curve_scores(step, name, settings, {f"{name}.score": 0.4})
    if checkpoint:
        folder.checkpoint.write_bytes(b"weights")
    for step in snapshots:
        folder.snapshot(step).parent.mkdir(exist_ok=True)
        folder.snapshot(step).write_bytes(b"weights")
    return folder


def no_snapshot(steps):
    return (f"{SPEC.run_id}: not scored at {steps}: no snapshot there (the run was trained before that step was "
            f"asked for)")


def test_a_new_run_is_trained_and_scored_at_its_last_step_and_its_schedule(tmp_path):
    assert plan(SPEC, RunStore(tmp_path), WANTED) == Plan(TRAIN, {"beta_vae": BETA}, EVERY_STEP, (10, 20))


def test_a_finished_run_holding_every_score_is_skipped(tmp_path):
    store = RunStore(tmp_path)
    hand_made(store, DONE, scores={"beta_vae": BETA}, curve=EVERY_STEP, checkpoint=True, snapshots=(10, 20))
    assert plan(SPEC, store, WANTED) == Plan(SKIP, detail=ALREADY_DONE)


def test_a_finished_run_scored_with_other_settings_is_rescored_from_its_weights(tmp_path):
    store = RunStore(tmp_path)
    hand_made(store, DONE, scores={"beta_vae": {**BETA, "num_eval": 7}}, curve=EVERY_STEP, checkpoint=True)
    assert plan(SPEC, store, WANTED) == Plan(RESCORE, {"beta_vae": BETA}, {}, (10, 20))
    pca = RunSpec("pca", "dsprites_small", 0, 30)                    # a fitted baseline keeps no checkpoint
    hand_made(store, DONE, spec=pca, scores={"beta_vae": {**BETA, "num_eval": 7}})
    assert plan(pca, store, Wanted(final={"beta_vae": BETA, "mig": MIG})) == Plan(RESCORE, {"beta_vae": BETA, "mig": MIG})


def test_a_finished_run_without_its_checkpoint_is_kept_and_only_its_snapshots_are_scored(tmp_path):
    store = RunStore(tmp_path)
    folder = hand_made(store, DONE, scores={"beta_vae": {**BETA, "num_eval": 7}}, curve={20: {"beta_vae": BETA}},
                       snapshots=(10,))
    kept = (f"{SPEC.run_id}: kept as it is: scoring beta_vae with the wanted settings needs the trained weights, "
            f"and its checkpoint.pt is gone (results shared without weights); delete {folder.path} to train it again, "
            f"or only its status file to train it again keeping its scores (docs/usage.md, \"More metrics for "
            f"finished runs\")")
    assert plan(SPEC, store, WANTED) == Plan(SNAPSHOTS, curve={10: {"beta_vae": BETA}}, lines=(kept,), detail=kept)
    folder.snapshot(10).unlink()
    assert plan(SPEC, store, WANTED) == Plan(SKIP, lines=(kept, no_snapshot("step 10")), detail=kept)


def test_a_finished_run_scores_the_snapshots_that_lack_curve_scores_and_names_the_steps_it_cannot(tmp_path):
    store = RunStore(tmp_path)
    folder = hand_made(store, DONE, scores={"beta_vae": BETA}, curve={20: {"beta_vae": BETA}}, checkpoint=True,
                       snapshots=(10, 20))
    wanted = dataclasses.replace(WANTED, curve={"beta_vae": BETA, "mig": MIG})
    assert plan(SPEC, store, wanted) == Plan(SNAPSHOTS, curve={10: {"beta_vae": BETA, "mig": MIG}, 20: {"mig": MIG}})
    folder.snapshot(10).unlink()
    assert plan(SPEC, store, wanted) == Plan(SNAPSHOTS, curve={20: {"mig": MIG}}, lines=(no_snapshot("step 10"),))
    folder.snapshot(20).unlink()
    assert plan(SPEC, store, wanted) == Plan(SKIP, lines=(no_snapshot("steps 10, 20"),),
                                             detail=ALREADY_DONE)


def test_a_run_that_failed_or_was_interrupted_is_trained_again_from_its_checkpoint(tmp_path):
    for state, detail in ((FAILED, "loss became nan at step 3"), (RUNNING, "")):
        store = RunStore(tmp_path / state)
        hand_made(store, state, detail=detail, curve={10: {"beta_vae": BETA}}, checkpoint=True, snapshots=(10,))
        assert plan(SPEC, store, WANTED) == Plan(TRAIN, {"beta_vae": BETA}, {20: {"beta_vae": BETA}}, (10, 20))


def test_a_new_run_starts_from_the_longest_trained_shorter_run_that_kept_its_checkpoint(tmp_path):
    store, other = RunStore(tmp_path / "here"), RunStore(tmp_path / "other")
    ten = hand_made(store, DONE, spec=RunSpec("vae", "dsprites_small", 0, 10), checkpoint=True)
    twenty = hand_made(other, DONE, spec=RunSpec("vae", "dsprites_small", 0, 20), checkpoint=True)
    hand_made(store, DONE, spec=RunSpec("vae", "dsprites_small", 0, 25))                     # no checkpoint
    hand_made(store, DONE, spec=RunSpec("vae", "dsprites_small", 1, 20), checkpoint=True)    # another seed
    starting = f"{SPEC.run_id}: starting from {{}}, the same run trained for fewer steps"
    assert plan(SPEC, store, WANTED) == Plan(TRAIN, {"beta_vae": BETA}, EVERY_STEP, (10, 20), str(ten.path),
                                             (starting.format(ten.path),))
    assert plan(SPEC, store, dataclasses.replace(WANTED, warm_start=str(other.out_dir))) == Plan(
        TRAIN, {"beta_vae": BETA}, EVERY_STEP, (10, 20), str(twenty.path), (starting.format(twenty.path),))


def test_the_options_of_a_sweep_say_what_each_run_is_wanted_to_hold():
    options = ExecutionOptions(metrics=("beta_vae", "udr"), quick=True, score_at=(10, 20, 40),
                               curve_metrics=("beta_vae",), warm_start="elsewhere")
    assert options.wanted(SPEC) == dataclasses.replace(WANTED, warm_start="elsewhere")   # udr: after the sweep
    assert options.wanted(RunSpec("pca", "dsprites_small", 0, 30)).schedule == ()        # nothing to snapshot
