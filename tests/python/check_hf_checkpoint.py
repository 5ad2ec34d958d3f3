#!/usr/bin/env python3
"""Loads a Hugging Face checkpoint written by `panllm convert ... --to safetensors` with transformers.

One command (a machine with python3, torch, transformers, safetensors; bitsandbytes and a CUDA GPU
for the nf4/fp4/int8 layouts):

    python3 tests/python/check_hf_checkpoint.py OUT_DIR [--against ORIGINAL_HF_DIR] [--ref REF.npy] [--save LOGITS.npy]
                                                [--dtype float32] [--tolerance 0.02]

It checks every *.safetensors file with the safetensors library (names, dtypes, shapes, the
index's weight_map), loads OUT_DIR with AutoModelForCausalLM.from_pretrained (and its tokenizer
when there is one), runs one forward pass over fixed token ids and prints the logits' shape,
mean, std, max and greedy tokens. With --against it runs the same ids through ORIGINAL_HF_DIR (e.g.
the checkpoint the GGUF was made from) and prints the relative RMS difference of the logits and
the top-1 agreement; with --ref it compares with saved logits; --save writes them. Exit status 0
when every comparison asked for passes (relative RMS below --tolerance, default 0.02 for
f16/bf16; use about 0.3 for 4-bit), 1 otherwise. --dtype float32 computes in float32 (default: the
checkpoint's torch_dtype), to compare with panllm's float32 CPU logits to about 1e-5.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM

IDS = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889, 13, 29871, 29896, 29906]


def check_files(path):
    files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
    if not files:
        sys.exit(f"{path}: no .safetensors files")
    names = {}
    for f in files:
        with safe_open(f, framework="pt") as st:
            for k in st.keys():
                names[k] = os.path.basename(f)
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as fh:
            weight_map = json.load(fh)["weight_map"]
        if weight_map != names:
            sys.exit(f"{index}: weight_map does not match the shards' tensors")
    print(f"{len(files)} safetensors file(s), {len(names)} tensors: ok")


def logits_of(path, vocab, dtype):
    dtype = dtype if dtype == "auto" else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, device_map="auto" if torch.cuda.is_available() else None)
    model.eval()
    ids = torch.tensor([[i % vocab for i in IDS]], device=model.device)
    with torch.no_grad():
        return model(ids).logits[0].float().cpu().numpy()


def compare(name, actual, expected, tolerance):
    rel = float(np.sqrt(np.mean((actual - expected) ** 2) / np.mean(expected ** 2)))
    top1 = float(np.mean(actual.argmax(-1) == expected.argmax(-1)))
    ok = rel < tolerance
    print(f"against {name}: relative RMS {rel:.4g}, top-1 agreement {top1:.0%} -> {'ok' if ok else 'FAILED'}")
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--against")
    p.add_argument("--ref")
    p.add_argument("--save")
    p.add_argument("--tolerance", type=float, default=0.02)
    p.add_argument("--dtype", default="auto")
    a = p.parse_args()
    check_files(a.checkpoint)
    with open(os.path.join(a.checkpoint, "config.json")) as fh:
        config = json.load(fh)
    vocab = config["vocab_size"]
    if os.path.exists(os.path.join(a.checkpoint, "tokenizer.json")):
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(a.checkpoint)
        print("tokenizer:", type(tok).__name__, "ids of 'Hello world':", tok("Hello world")["input_ids"])
    logits = logits_of(a.checkpoint, vocab, a.dtype)
    print(f"logits {logits.shape}: mean {logits.mean():.4f} std {logits.std():.4f} max {logits.max():.4f}")
    print("greedy next tokens:", logits.argmax(-1).tolist())
    if a.save:
        np.save(a.save, logits)
    ok = True
    if a.ref:
        ok &= compare(a.ref, logits, np.load(a.ref), a.tolerance)
    if a.against:
        ok &= compare(a.against, logits, logits_of(a.against, vocab, a.dtype), a.tolerance)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
