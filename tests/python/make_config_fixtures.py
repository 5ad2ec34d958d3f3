#!/usr/bin/env python3
"""Re-saves the transformers-4.x config.json fixtures with the installed transformers.

    python3 tests/python/make_config_fixtures.py gguf-io/src/test/resources/hf-config/v4 OUT_DIR

Each V4_DIR/NAME.json is loaded with LlamaConfig.from_pretrained and saved with save_pretrained
into OUT_DIR/NAME/config.json: the file a checkpoint re-saved by this transformers version carries
(transformers 5 writes rope_parameters and dtype). The v5/ fixtures came from transformers 5.17.0.
"""
import glob
import os
import sys
import tempfile

import transformers
from transformers import LlamaConfig

source, out = sys.argv[1], sys.argv[2]
print("transformers", transformers.__version__)
for path in sorted(glob.glob(os.path.join(source, "*.json"))):
    name = os.path.basename(path)[:-len(".json")]
    with tempfile.TemporaryDirectory() as tmp:
        with open(path) as f, open(os.path.join(tmp, "config.json"), "w") as g:
            g.write(f.read())
        LlamaConfig.from_pretrained(tmp).save_pretrained(os.path.join(out, name))
    print("wrote", os.path.join(out, name, "config.json"))
