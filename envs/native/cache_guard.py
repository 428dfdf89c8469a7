"""Keep numba's on-disk kernel caches in step with every source a kernel can inline.

numba keys a cached function on the file that defines it (its ``mtime`` and size,
``numba/core/caching.py``, ``_SourceFileBackedLocatorMixin.get_source_stamp``). A kernel that calls
a jitted function from another module (``randint`` from :mod:`rewardgym.envs.native.rng`) or reads
a module-level constant from one (``NEXT_STEP``) compiles that code INTO its own machine code, so
after an edit to the other module numba still loads the old machine code from the cache: a changed
random stream, potential or autoreset code silently keeps its old behaviour.

:func:`invalidate_if_sources_changed` closes that gap for one package (a family, the wrappers, the
kit itself). It follows the package's ``rewardgym`` imports transitively (statically, with
:mod:`ast`, importing nothing) to the set of source files its kernels can reach, hashes them, and
compares the hash with the one stamped next to the package's numba cache; when they differ, it
deletes the package's cached kernels (``*.nbi`` indexes and ``*.nbc`` machine code) so numba
recompiles them. Each numba package calls it in its ``__init__``, before its kernel modules are
imported. A kernel can only reach code through an import, so the closure is exactly the set of
sources that can be inlined (plus a few that cannot, which costs an occasional needless
recompile, never a stale one).

Best effort: a cache folder that cannot be written (a read-only install, whose sources do not
change) is left alone.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import numba

STAMP = "rewardgym-sources.sha256"
_ROOT = "rewardgym"


def _top_level_locations(name: str) -> tuple[Path | None, list[Path]]:
    """File and search folders of ``rewardgym`` or ``rewardgym.<x>`` (may import ``rewardgym``).

    The second level needs a finder: the sub-packages are mapped to other folders in an editable
    install (``package-dir`` in pyproject.toml). Deeper modules are found by walking folders.
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None, []
    if spec is None:
        return None, []
    origin = Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    return origin, [Path(p) for p in spec.submodule_search_locations or []]


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` inside ``rewardgym`` (a package's ``__init__.py``).

    None for modules outside ``rewardgym`` and names that are not modules (``from x import f``).
    Only ``rewardgym`` and its direct sub-package are looked up through the import system (which
    imports at most ``rewardgym`` itself); nothing else is imported.
    """
    parts = name.split(".")
    if parts[0] != _ROOT:
        return None
    origin, folders = _top_level_locations(".".join(parts[:2]))
    for part in parts[2:]:
        for folder in folders:
            if (folder / part / "__init__.py").is_file():
                origin, folders = folder / part / "__init__.py", [folder / part]
                break
            if (folder / f"{part}.py").is_file():
                origin, folders = folder / f"{part}.py", []
                break
        else:
            return None
    return origin


def _import_statements(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements in ``body`` and in every block nested in it (functions included).

    Only statements are visited, never expressions: an import is always a statement, and this is
    ten times faster than :func:`ast.walk`.
    """
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                yield from _import_statements(block)


@functools.cache
def _imported_modules(source: Path, module: str, stamp: tuple[int, int]) -> tuple[str, ...]:
    """Every module ``source`` (the module named ``module``) may import, ``from`` names included.

    ``from a import b`` gives both ``a`` and ``a.b`` (``b`` may be a sub-module); imports inside
    functions count too. ``stamp`` (mtime, size) keys the memo, so an edited file is parsed again.
    """
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in _import_statements(ast.parse(source.read_bytes(), filename=str(source)).body):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
            continue
        if node.level:
            base_parts = package.split(".")
            base_parts = base_parts[:len(base_parts) - (node.level - 1)]
            base = ".".join([*base_parts, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        names += [base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")]
    return tuple(names)


def reachable_sources(package: str) -> dict[str, Path]:
    """Module name -> source file of every ``rewardgym`` module that ``package`` can reach.

    Starts from every ``*.py`` in the package's folder and follows imports transitively.
    """
    init = module_file(package)
    if init is None or init.name != "__init__.py":
        raise ValueError(f"cache guard: {package!r} is not a rewardgym package")
    todo = [(package if path.name == "__init__.py" else f"{package}.{path.stem}", path)
            for path in sorted(init.parent.glob("*.py"))]
    found: dict[str, Path] = {}
    while todo:
        name, path = todo.pop()
        if name in found:
            continue
        found[name] = path
        stat = path.stat()
        for imported in _imported_modules(path, name, (stat.st_mtime_ns, stat.st_size)):
            if imported not in found and (file := module_file(imported)) is not None:
                todo.append((imported, file))
    return found


def sources_digest(sources: dict[str, Path]) -> str:
    """SHA-256 over the module names and bytes of ``sources``, in name order."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0")
        digest.update(sources[name].read_bytes() + b"\0")
    return digest.hexdigest()


def cache_folders(package_dir: Path) -> tuple[Path, Path | None]:
    """The folders numba may cache this package's kernels in (``numba/core/caching.py``).

    The first is where numba caches when it can: ``NUMBA_CACHE_DIR`` when set, else
    ``__pycache__`` next to the sources; the second (None under ``NUMBA_CACHE_DIR``) is the
    user-wide cache numba falls back to when ``__pycache__`` is not writable. Sub-folders of a
    cache root are named ``<folder name>_<sha1 of the absolute folder path>``, as numba's
    ``_CacheLocator.get_suitable_cache_subpath`` names them.
    """
    folder = os.path.abspath(package_dir)
    subpath = "_".join([os.path.basename(folder), hashlib.sha1(folder.encode()).hexdigest()])
    if numba.config.CACHE_DIR:
        return Path(numba.config.CACHE_DIR) / subpath, None
    from numba.misc.appdirs import AppDirs

    user_wide = Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / subpath
    return Path(folder) / "__pycache__", user_wide


def _refresh(cache_dir: Path, digest: str, create: bool) -> bool:
    """Drop the cached kernels in ``cache_dir`` unless its stamp is ``digest``; True if dropped.

    ``create`` makes the folder so the stamp is there before numba writes its first kernel;
    otherwise a missing folder is left missing (nothing is cached there).
    """
    stamp = cache_dir / STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        if create:
            cache_dir.mkdir(parents=True, exist_ok=True)
        elif not cache_dir.is_dir():
            return False
        stale = [*cache_dir.glob("*.nbi"), *cache_dir.glob("*.nbc")]
        for path in stale:
            path.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return bool(stale)


def invalidate_if_sources_changed(package: str) -> bool:
    """Delete ``package``'s cached kernels if any source they can inline changed.

    Args:
        package: the dotted name of a ``rewardgym`` package with numba kernels (its
            ``__init__`` passes ``__name__``).

    Returns:
        True if cached kernels were deleted.
    """
    sources = reachable_sources(package)
    digest = sources_digest(sources)
    primary, fallback = cache_folders(sources[package].parent)
    dropped = _refresh(primary, digest, create=True)
    if fallback is not None:
        dropped = _refresh(fallback, digest, create=False) or dropped
    return dropped
