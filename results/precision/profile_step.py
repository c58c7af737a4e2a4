"""Where a bf16 / fp32 conv beta-VAE step spends its time on one thread (torch.profiler): the harness step and the network alone.

Run from the repository root: python results/precision/profile_step.py bf16 > results/precision/profile_bf16.txt"""
import sys, torch, time
import methods
from bench import data
from bench.device import choose_policy
from bench.running.runner import sampler_rng, training_step
from bench.running.sampler import BatchSampler
from bench.speed.ceiling import NetworkAlone
torch.set_num_threads(1)
precision = sys.argv[1]
policy = choose_policy("cpu", precision)
ds = data.load("dsprites")
m = methods.create("beta_vae", {}, ds.image_shape, policy, 0, ds.method_defaults())
s = BatchSampler(ds, m.batch_kind, 64, sampler_rng(0), policy)
net = NetworkAlone(m, s.next().x)
def harness():                      # the runner's own step
    training_step(m, s, m.step + 1)
for f in (harness, net.step):
    for _ in range(5): f()
from torch.profiler import profile, ProfilerActivity
for name, f in (("harness", harness), ("network", net.step)):
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(20): f()
    print(f"===== {precision} {name}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=22))
