"""Keep numba's on-disk cache of the grid kernels in step with their sources.

numba keys a cached function on its own file only: after an edit to ``layouts.py`` or
``potential.py``, kernels in ``kernels.py`` that call them would load stale machine code from
``__pycache__`` (seen here: a changed potential kept its old values). Before the kernels are
imported, this compares a hash of every grid source file with the one recorded next to the cache
and deletes the cached kernels when they differ. Best effort: an unwritable cache folder (an
installed package) is left alone, since its sources do not change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_STAMP = "rewardgym-grid-sources.sha256"


def invalidate_if_sources_changed(package_dir: Path) -> bool:
    """Delete the package's numba cache files if any ``*.py`` in it changed; True if deleted."""
    digest = hashlib.sha256()
    for source in sorted(package_dir.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    cache_dir = package_dir / "__pycache__"
    stamp = cache_dir / _STAMP
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    try:
        stale = list(cache_dir.glob("*.nbi")) + list(cache_dir.glob("*.nbc"))
        for path in stale:
            path.unlink(missing_ok=True)
        cache_dir.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:
        return False
    return bool(stale)
