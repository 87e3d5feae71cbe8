# The PyTorch twin of Mtkd's distillation benchmark loops (benchmarks/Mtkd.Benchmarks/PyTorchComparison.cs runs it
# and alternates with Mtkd, epoch by epoch, in one invocation). Debian's python3-torch; run with /usr/bin/python3.
# The same network (cnn-small: conv 8, batch norm, ReLU, max pool, conv 16, batch norm, ReLU, max pool, linear),
# batch 128, Adam at 2e-3, the same losses and augmentation as Mtkd's TrainingLoop, on the same Fashion-MNIST images
# held in memory as float tensors. Protocol: one command per line on stdin ("epoch labels|stored|online", "quit"); each
# epoch answers one line "seconds <s> loss <mean loss>" on stdout.
import gzip, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

images, threads, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data_dir = sys.argv[4] if len(sys.argv) > 4 else '/usr/share/datasets/fashion-mnist'
torch.set_num_threads(threads)
torch.manual_seed(seed)
rng = np.random.default_rng(seed)

def load(kind):
    with gzip.open(f'{data_dir}/{kind}-images-idx3-ubyte.gz') as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f'{data_dir}/{kind}-labels-idx1-ubyte.gz') as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(x[:images].astype(np.float32) / 255.0), torch.from_numpy(y[:images].astype(np.int64))

X, Y = load('train')
K, C, BATCH, T, ALPHA = 3, 10, 128, 1.0, 0.5
# Stored soft labels: synthetic logits, as Mtkd's benchmark uses (speed does not depend on their values).
STORED = torch.from_numpy(rng.uniform(-5, 5, (len(X), K, C)).astype(np.float32))

def cnn_small(w):
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * 49, C))

# Teachers of the online epoch: cnn-small at width 32, untrained (speed does not depend on weights), in eval mode.
TEACHERS = [cnn_small(32).eval() for _ in range(K)]
for t in TEACHERS:
    for p in t.parameters(): p.requires_grad_(False)

students = {}
def student(mode):
    if mode not in students:
        m = cnn_small(8)
        students[mode] = (m, torch.optim.Adam(m.parameters(), lr=2e-3))
    return students[mode]

def output_avg(logits, teacher_logits, hard):
    # (1 − α)·T²·KL(mean of the teachers' softmax(t/T) ‖ softmax(s/T)) + α·hard, as Mtkd's OutputAverage.
    target = F.softmax(teacher_logits / T, dim=2).mean(1)
    soft = (target * (target.clamp_min(1e-12).log() - F.log_softmax(logits / T, dim=1))).sum(1).mean()
    return (1 - ALPHA) * T * T * soft + ALPHA * hard

def augment(x, g):
    # Shift by up to 2 pixels (pad, then each image its own crop) and flip half: Mtkd's TensorAugmentation.
    n, _, h, w = x.shape
    p = 2
    padded = F.pad(x, (p, p, p, p))
    offsets = torch.randint(0, 2 * p + 1, (n, 2), generator=g).tolist()
    x = torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])
    flip = torch.rand(n, generator=g) < 0.5
    return torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)

def epoch(mode):
    m, opt = student(mode)
    m.train()
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(X), generator=g)
    total, batches = 0.0, 0
    start = time.perf_counter()
    for b in range(0, len(X), BATCH):
        rows = order[b:b + BATCH]
        x, y = X[rows], Y[rows]
        opt.zero_grad()
        if mode == 'labels':
            loss = F.cross_entropy(m(x), y)
        elif mode == 'stored':
            logits = m(x)
            loss = output_avg(logits, STORED[rows], F.cross_entropy(logits, y))
        else:
            # Online, consistent teaching: the teachers score the very shifted, flipped, mixed batch the student sees.
            x = augment(x, g)
            lam = float(np.random.default_rng(b).beta(1.0, 1.0))
            perm = torch.randperm(len(x), generator=g)
            x = lam * x + (1 - lam) * x[perm]
            with torch.no_grad():
                teacher_logits = torch.stack([t(x) for t in TEACHERS], dim=1)
            logits = m(x)
            hard = lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])
            loss = output_avg(logits, teacher_logits, hard)
        loss.backward()
        opt.step()
        total += loss.item()  # Mtkd's loop reads the loss each step too
        batches += 1
    return time.perf_counter() - start, total / batches

print(f'ready torch {torch.__version__} threads {torch.get_num_threads()} images {len(X)}', flush=True)
for line in sys.stdin:
    words = line.split()
    if not words or words[0] == 'quit':
        break
    seconds, loss = epoch(words[1])
    print(f'seconds {seconds:.6f} loss {loss:.6f}', flush=True)
