"""A process that saves or loads one model folder, for the concurrency and kill tests.

    python tests/store_worker.py write SRC DST SECONDS   save SRC's model to DST again and again
    python tests/store_worker.py read DST SECONDS        load DST again and again, predicting each time
    python tests/store_worker.py kill SRC DST STEP       save SRC's model to DST, dying at STEP

Prints the number of saves or loads; any error is printed and exits 1.
"""

import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classify import store  # noqa: E402


def main(mode, *args):
    if mode == "kill":
        src, dst, step = args
        model = store.load_model(src)
        # os._exit runs no handler and no finally: what a SIGKILL there would leave.
        store._step = lambda name: os._exit(9) if name == step else None
        store.save_model(model, dst)
        return 0
    model = store.load_model(args[0])  # imports done before the clock starts
    model.pipeline  # noqa: B018 (saving needs the pipeline: skops and scikit-learn imported now, too)
    deadline = time.monotonic() + float(args[-1])
    n = 0
    while time.monotonic() < deadline:
        if mode == "write":
            store.save_model(model, args[1])
        else:
            proba = store.load_model(args[0]).predict_proba(["قصفت الطائرات مواقع في حلب"])
            assert proba.shape == (1, 5)
        n += 1
    print(n)
    return 0


if __name__ == "__main__":
    try:
        status = main(*sys.argv[1:])
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.exit(status)
