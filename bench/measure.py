"""Run one command; print as JSON its wall time, the CPU seconds of its whole process tree (every descendant
waited for), the peak RSS of its largest process and the load average at the start (used by run.py)."""

import json
import os
import resource
import subprocess
import sys
import time

load = os.getloadavg()[0]
began = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
wall = time.monotonic() - began
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(
    json.dumps(
        {
            "rc": proc.returncode,
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024,
            "load": load,
            "tail": (proc.stdout + proc.stderr)[-3000:],
        }
    )
)
