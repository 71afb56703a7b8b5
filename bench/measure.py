"""Run one command; print its wall time and the peak RSS of its largest process as JSON (used by run.py)."""

import json
import resource
import subprocess
import sys
import time

began = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
print(
    json.dumps(
        {
            "rc": proc.returncode,
            "wall": time.monotonic() - began,
            "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "tail": (proc.stdout + proc.stderr)[-3000:],
        }
    )
)
