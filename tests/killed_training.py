"""A method whose training dies at a given step, as a killed process would: tests/test_runner.py and
tests/test_machine_record.py train it, catch `Killed`, and train a fresh method into the same folder
to resume from its checkpoint."""


class Killed(Exception):
    pass


def dying_at(method, step: int):
    """`method`, its train_step raising Killed instead of training step `step`."""
    original_step = method.train_step

    def dies(batch):
        if method.step == step - 1:
            raise Killed
        return original_step(batch)

    method.train_step = dies
    return method
