"""Time Basic Pitch's TensorFlow SavedModel on WAV files; run with the python of benchmarks/tensorflow_env.sh's
environment (TensorFlow needs numpy<2, which .venv cannot have). benchmarks/midi.py drives it.

    /tmp/stemcrate-tf/bin/python benchmarks/_basic_pitch_tf.py [--threads N] a.wav b.wav ...
        Loads basic_pitch.ICASSP_2022_MODEL_PATH (the SavedModel, which basic_pitch.inference.Model loads with
        tf.saved_model.load when TensorFlow imports), converts the first file once as a warm-up, then times
        basic_pitch.inference.predict with every default (what its CLI does: librosa load, inference, note
        decoding) on each file and prints one JSON object:
        {"seconds": total, "audio_seconds": total, "per_file": [{"path", "seconds", "audio_seconds", "notes"}],
         "tensorflow": version}

    ... _basic_pitch_tf.py [--threads N] --serve
        Reads one WAV path per line on stdin and answers each with one JSON line {"path", "seconds",
        "audio_seconds", "notes", "tensorflow"} (no warm-up of its own: the caller discards its first answer),
        so that the caller can take turns with other contenders file by file.

Only the JSON goes to stdout (what TensorFlow or Basic Pitch print is sent to stderr). Loading TensorFlow and the
model is not timed.
"""

import argparse
import contextlib
import json
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported: no oneDNN/CPU-feature notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="WAV files (the first is also the warm-up)")
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow intra-op threads (default: all)")
    parser.add_argument("--serve", action="store_true", help="read paths from stdin, answer a JSON line each")
    args = parser.parse_args()
    if not args.serve and not args.paths:
        parser.error("give WAV paths, or --serve")

    # keep the real stdout for the JSON; everything else printed (also by C++ code) goes to stderr
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    logging.disable(logging.WARNING)  # basic_pitch warns about the CoreML, TFLite and ONNX runtimes it lacks
    try:
        import basic_pitch
        import soundfile as sf
        import tensorflow as tf
        from basic_pitch import inference
    finally:
        logging.disable(logging.NOTSET)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    model = inference.Model(basic_pitch.ICASSP_2022_MODEL_PATH)  # the SavedModel directory ("nmp")
    if model.model_type != inference.Model.MODEL_TYPES.TENSORFLOW:
        sys.exit(f"{basic_pitch.ICASSP_2022_MODEL_PATH} did not load as a TensorFlow SavedModel")

    def convert(path: str) -> dict:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # predict prints a line per file
            _, _, events = inference.predict(path, model)
        seconds = time.perf_counter() - t0
        audio_seconds = sf.info(path).duration
        return {"path": path, "seconds": seconds, "audio_seconds": audio_seconds, "notes": len(events)}

    if args.serve:
        for line in sys.stdin:
            if line.strip():
                out.write(json.dumps({**convert(line.strip()), "tensorflow": tf.__version__}) + "\n")
        return
    convert(args.paths[0])  # warm-up: graph tracing, librosa's resampler
    per_file = [convert(path) for path in args.paths]
    result = {
        "seconds": sum(f["seconds"] for f in per_file),
        "audio_seconds": sum(f["audio_seconds"] for f in per_file),
        "per_file": per_file,
        "tensorflow": tf.__version__,
    }
    out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
