"""Code the benchmarks' child processes share (prepended to each child's program text)."""

# VmHWM resets at exec; ru_maxrss keeps the parent's high-water mark across fork+exec, so
# under `python -m bench` it reported the runner's size, not the child's.
PEAK_RSS = """
import resource


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
