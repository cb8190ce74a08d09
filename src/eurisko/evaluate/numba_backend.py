"""The numba CPU backend: many programs on many rows, in parallel, compiled once per registry.

The interpreter is not written by hand: ``_kernelgen.kernel_source`` writes it from the operator
registry (one ``elif`` branch per operator, from each entry's scalar code and derivatives).
The text goes to ``<cache>/kernel_<registry fingerprint>[_mvec].py`` and is imported from there,
so numba's ``cache=True`` finds the machine code again in every later process: only the first
process on a machine pays the compilation (about 10 s per dtype and kernel family). Registering
an operator changes the fingerprint, which yields a new file and new kernels; no code here names
an operator.

The cache folder is ``$EURISKO_CACHE_DIR/kernels`` when that variable is set, else
``$XDG_CACHE_HOME/eurisko/kernels`` (``~/.cache/eurisko/kernels``).

Kernel layout: the programs of a batch are dealt to a pool of threads (the compiled kernels
release the GIL); each program runs over the rows in blocks of ``block_size``. Within a block
the dispatch on the op code happens once per node, and the loop over the rows of the block is a
plain loop that LLVM vectorises: leaves are read in place (no copies), every operator writes a
buffer distinct from its inputs, and ``exp``/``log``/``sin``/... call glibc's vectorised libmvec
where it exists (AVX2 CPUs; ``EURISKO_NO_LIBMVEC=1`` turns it off). Computation is in the
data's dtype (float32 or float64); loss sums are accumulated in float64.

numba is imported when a backend method first runs, not when ``eurisko`` is imported.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from eurisko.evaluate._kernelgen import GENERATOR_VERSION, kernel_source, vector_math
from eurisko.evaluate.base import Dataset, Losses
from eurisko.evaluate.losses import custom_losses, loss_code, loss_fingerprint
from eurisko.expr.operators import CONST, VAR, arity_table, registry, registry_fingerprint
from eurisko.expr.program import ProgramBatch
from eurisko.validation import check_int

__all__ = [
    "NumbaBackend",
    "kernel_cache_dir",
    "kernel_module",
    "max_stack_depth",
]

_BUILTIN_OPS = registry()  # as imported: what a custom operator is not
_LOCK = threading.Lock()
_MODULES: dict[str, ModuleType] = {}
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_PID = 0


def _default_threads() -> int:
    env = os.environ.get("EURISKO_NUM_THREADS") or os.environ.get("NUMBA_NUM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _thread_pool(n: int) -> ThreadPoolExecutor:
    """A process-wide pool of at least ``n`` worker threads (the kernels release the GIL).

    A forked child (multiprocessing workers) inherits the pool object but not its threads, so
    the pool is remade when the process id changed.
    """
    global _POOL, _POOL_SIZE, _POOL_PID
    with _LOCK:
        if _POOL is None or _POOL_SIZE < n or _POOL_PID != os.getpid():
            if _POOL is not None and _POOL_PID == os.getpid():
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="eurisko-numba")
            _POOL_SIZE = n
            _POOL_PID = os.getpid()
        return _POOL


# ----------------------------------------------------------------------------------------------
# kernel files


def kernel_cache_dir() -> Path:
    """Folder of the generated kernel modules (numba keeps its cache in ``__pycache__`` there)."""
    env = os.environ.get("EURISKO_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "kernels"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "eurisko" / "kernels"


def _writable_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"eurisko-{os.getuid()}" / "kernels"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, leaving the file (and its mtime) alone when equal.

    numba's cache index is keyed on the source file's mtime, so a file is only touched when its
    content must change; a new file is linked into place, so two processes racing to create it
    do not overwrite each other's (identical) file.
    """
    try:
        if path.read_text() == text:
            return
        exists = True
    except (FileNotFoundError, UnicodeDecodeError):
        exists = path.exists()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if exists:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                if path.read_text() != text:
                    os.replace(tmp, path)
            except OSError:  # no hard links on this file system
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def kernel_module() -> ModuleType:
    """The compiled-kernel module of the current registry (generated and imported on first use).

    Importing it imports numba; the functions compile (or load from numba's cache) on first call.
    """
    fp = f"{registry_fingerprint()}_{loss_fingerprint()}"
    mod = _MODULES.get(fp)
    if mod is not None:
        return mod
    with _LOCK:
        mod = _MODULES.get(fp)
        if mod is not None:
            return mod
        vm_lib, vm_names = vector_math()
        source = kernel_source(vector_math_lib=vm_lib, vector_math_names=vm_names)
        folder = _writable_dir(kernel_cache_dir())
        path = folder / f"kernel_{fp}{'_mvec' if vm_lib else ''}.py"
        _write_if_changed(path, source)
        name = f"eurisko_kernels_{fp}_v{GENERATOR_VERSION}{'_mvec' if vm_lib else ''}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - importlib contract
            raise ImportError(f"cannot import the generated kernel module {path}")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except Exception:
            sys.modules.pop(name, None)
            raise
        _MODULES[fp] = mod
        return mod


# ----------------------------------------------------------------------------------------------
# input checks


def max_stack_depth(codes: np.ndarray, node_offsets: np.ndarray) -> int:
    """Largest stack depth any program of a batch reaches (0 for an empty batch).

    The programs are assumed well formed (see ``NumbaBackend`` for the checks).
    """
    codes = np.asarray(codes)
    node_offsets = np.asarray(node_offsets, dtype=np.int64)
    if len(codes) == 0:
        return 0
    depth = _depths(codes, node_offsets)
    return int(depth.max())


def _depths(codes: np.ndarray, node_offsets: np.ndarray) -> np.ndarray:
    """Stack depth after every node, program by program."""
    delta = 1 - arity_table().astype(np.int64)[codes]
    cs = np.cumsum(delta)
    lengths = np.diff(node_offsets)
    # each complete program leaves exactly one value; subtract what earlier programs left
    before = np.concatenate(([0], cs[node_offsets[1:-1] - 1]))
    return cs - np.repeat(before, lengths)


@dataclass
class _Prepared:
    codes: np.ndarray
    args: np.ndarray
    node_off: np.ndarray
    consts: np.ndarray
    const_off: np.ndarray
    max_depth: int
    max_len: int
    max_consts: int

    @property
    def n_programs(self) -> int:
        return len(self.node_off) - 1

    def kernel_args(self) -> tuple:
        return (self.codes, self.args, self.node_off, self.consts, self.const_off)


def _int_array(a, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ValueError(
            f"ProgramBatch.{name} must be a 1-D integer array, got dtype {arr.dtype} and shape "
            f"{arr.shape}; build batches with ProgramBatch.from_programs"
        )
    return arr


_SCAN = []


def _scan_batch():
    """A compiled pass that checks a batch and measures it (stack depth, lengths, constants).

    It only says ok / not ok; the slower numpy checks in `_prepare` then find and name the fault.
    """
    if _SCAN:
        return _SCAN[0]
    import numba

    @numba.njit(cache=True, nogil=True)
    def scan(codes, args, node_off, const_off, arity, n_features):
        n_codes = len(arity)
        max_depth, max_len, max_consts = 0, 0, 0
        for i in range(len(node_off) - 1):
            a, b = node_off[i], node_off[i + 1]
            nc = const_off[i + 1] - const_off[i]
            if b <= a or nc < 0:
                return False, 0, 0, 0
            max_len = max(max_len, b - a)
            max_consts = max(max_consts, nc)
            d = 0
            for j in range(a, b):
                c = codes[j]
                if c < 0 or c >= n_codes:
                    return False, 0, 0, 0
                if c == 0:
                    if args[j] < 0 or args[j] >= n_features:
                        return False, 0, 0, 0
                    d += 1
                elif c == 1:
                    if args[j] < 0 or args[j] >= nc:
                        return False, 0, 0, 0
                    d += 1
                else:
                    d += 1 - arity[c]
                    if d < 1:
                        return False, 0, 0, 0
                max_depth = max(max_depth, d)
            if d != 1:
                return False, 0, 0, 0
        return True, max_depth, max_len, max_consts

    _SCAN.append(scan)
    return scan


def _arity64() -> np.ndarray:
    t = arity_table()
    if _ARITY64[0] is not t:  # the registry changed (or first call)
        _ARITY64[:] = [t, t.astype(np.int64)]
    return _ARITY64[1]


_ARITY64: list = [None, None]


def _fast_prepare(batch: ProgramBatch, n_features: int) -> _Prepared | None:
    """The common case without the numpy checks: a batch as `ProgramBatch.from_programs`
    builds it (contiguous arrays of the kernel's dtypes, consistent offsets) checked by the
    compiled scan alone. None sends the batch through `_prepare`'s checks, which name a fault.
    The search calls a kernel per LM round on batches of a few dozen programs, where those
    checks cost more than the arithmetic."""
    codes, args, noff = batch.codes, batch.args, batch.node_offsets
    consts, coff = batch.consts, batch.const_offsets
    for arr, dt in ((codes, np.int16), (args, np.int32), (noff, np.int64), (coff, np.int64),
                    (consts, np.float64)):
        if type(arr) is not np.ndarray or arr.dtype != dt or arr.ndim != 1 \
                or not arr.flags.c_contiguous:
            return None
    n = len(noff) - 1
    if n < 1 or len(coff) != n + 1 or len(args) != len(codes) or noff[0] != 0 \
            or noff[n] != len(codes) or coff[0] != 0 or coff[n] != len(consts):
        return None
    ok, max_depth, max_len, max_consts = _scan_batch()(codes, args, noff, coff, _arity64(),
                                                       n_features)
    if not ok:
        return None
    return _Prepared(codes, args, noff, consts, coff, max_depth, max_len, max_consts)


def _prepare(batch: ProgramBatch, n_features: int) -> _Prepared:
    if not isinstance(batch, ProgramBatch):
        raise TypeError(
            f"expected a ProgramBatch, got {type(batch).__name__}; "
            "build one with ProgramBatch.from_programs([...])"
        )
    fast = _fast_prepare(batch, n_features)
    if fast is not None:
        return fast
    codes = _int_array(batch.codes, "codes")
    args = _int_array(batch.args, "args")
    node_off = _int_array(batch.node_offsets, "node_offsets").astype(np.int64)
    const_off = _int_array(batch.const_offsets, "const_offsets").astype(np.int64)
    consts = np.asarray(batch.consts, dtype=np.float64)
    if consts.ndim != 1:
        raise ValueError(f"ProgramBatch.consts must be 1-D, got shape {consts.shape}")
    n = len(node_off) - 1
    if n < 0 or len(const_off) != n + 1:
        raise ValueError(
            "ProgramBatch.node_offsets and const_offsets must both have n_programs + 1 entries"
        )
    if node_off[0] != 0 or node_off[-1] != len(codes) or len(args) != len(codes):
        raise ValueError(
            "ProgramBatch offsets do not match its arrays: node_offsets must run from 0 to "
            "len(codes) and args must be as long as codes"
        )
    if const_off[0] != 0 or const_off[-1] != len(consts) or np.any(np.diff(const_off) < 0):
        raise ValueError(
            "ProgramBatch.const_offsets must run from 0 to len(consts) without decreasing"
        )
    lengths = np.diff(node_off)
    if n and lengths.min() < 1:
        i = int(np.argmin(lengths))
        raise ValueError(f"program {i} of the batch is empty; a program needs at least one node")
    if n == 0:
        return _Prepared(
            codes.astype(np.int16), args.astype(np.int32), node_off, consts, const_off, 0, 0, 0
        )
    codes16 = codes.astype(np.int16, copy=False)
    args32 = np.ascontiguousarray(args, dtype=np.int32)
    ok, max_depth, max_len, max_consts = _scan_batch()(
        codes16, args32, node_off, const_off, arity_table().astype(np.int64), n_features)
    if ok:  # the common case, in one compiled pass; else the checks below name the fault
        return _Prepared(codes16, args32, node_off, np.ascontiguousarray(consts), const_off,
                         max_depth, max_len, max_consts)
    n_codes = len(arity_table())
    if codes.min() < 0 or codes.max() >= n_codes:
        bad = int(np.flatnonzero((codes < 0) | (codes >= n_codes))[0])
        i = int(np.searchsorted(node_off, bad, side="right") - 1)
        raise ValueError(
            f"program {i} holds op code {int(codes[bad])}, outside the operator registry "
            f"(codes 0..{n_codes - 1}); was it built with an operator registered elsewhere?"
        )
    codes = codes.astype(np.int16)
    depth = _depths(codes, node_off)
    if depth.min() < 1:
        bad = int(np.flatnonzero(depth < 1)[0])
        i = int(np.searchsorted(node_off, bad, side="right") - 1)
        raise ValueError(f"program {i} is not a valid postfix program: it pops an empty stack")
    ends = depth[node_off[1:] - 1]
    if np.any(ends != 1):
        i = int(np.flatnonzero(ends != 1)[0])
        raise ValueError(
            f"program {i} is not a valid postfix program: it leaves {int(ends[i])} values "
            "on the stack, not 1"
        )
    prog = np.repeat(np.arange(n), lengths)
    is_var = codes == VAR
    if is_var.any():
        vidx = args[is_var]
        badv = (vidx < 0) | (vidx >= n_features)
        if badv.any():
            j = int(np.flatnonzero(badv)[0])
            i = int(prog[is_var][j])
            raise ValueError(
                f"program {i} reads variable x{int(vidx[j])} but the data has {n_features} "
                f"feature column(s) (x0..x{n_features - 1}); evaluate it on data with the "
                "columns it was built for"
            )
    is_const = codes == CONST
    if is_const.any():
        cidx = args[is_const]
        ncon = np.diff(const_off)[prog[is_const]]
        badc = (cidx < 0) | (cidx >= ncon)
        if badc.any():
            j = int(np.flatnonzero(badc)[0])
            i = int(prog[is_const][j])
            raise ValueError(
                f"program {i} uses constant #{int(cidx[j])} but holds only {int(ncon[j])} "
                "constant(s)"
            )
    return _Prepared(
        codes,
        np.ascontiguousarray(args, dtype=np.int32),
        node_off,
        np.ascontiguousarray(consts),
        const_off,
        int(depth.max()),
        int(lengths.max()),
        int(np.diff(const_off).max()),
    )


def _check_data(data: Dataset) -> np.ndarray:
    if not isinstance(data, Dataset):
        raise TypeError(
            f"expected an eurisko Dataset, got {type(data).__name__}; "
            "build one with Dataset.from_arrays(X, y, w)"
        )
    Xt = data.Xt
    if not isinstance(Xt, np.ndarray) or Xt.ndim != 2:
        raise ValueError(
            "Dataset.Xt must be a 2-D numpy array (n_features, n_rows); "
            "build the Dataset with Dataset.from_arrays(X, y)"
        )
    if Xt.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"Dataset.Xt has dtype {Xt.dtype}; the numba backend computes in float32 or float64: "
            "build the Dataset with Dataset.from_arrays(X, y, dtype=np.float64) (or np.float32)"
        )
    return np.ascontiguousarray(Xt)


def _vector(v: np.ndarray, n_rows: int, what: str) -> np.ndarray:
    arr = np.asarray(v)
    if arr.shape != (n_rows,):
        raise ValueError(
            f"Dataset.{what} must have shape ({n_rows},) to match the {n_rows} rows of Xt, "
            f"got {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"Dataset.{what} must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# the backend


class NumbaBackend:
    """Parallel CPU evaluator compiled with numba from the operator registry.

    Parameters
    ----------
    block_size : rows per block of the interpreter (None: 512 for float64, 1024 for float32).
        Larger blocks amortise dispatch; smaller ones keep the stack in L1 cache.
    n_threads : worker threads sharing the programs (None: ``$EURISKO_NUM_THREADS``, else the
        cores this process may use). The compiled kernels release the GIL.

    ``predict`` and ``jacobian`` return arrays in the data's dtype (float32 data gives float32
    outputs); ``losses`` are float64.

    Examples
    --------
    >>> import numpy as np
    >>> from eurisko.evaluate import Dataset, NumbaBackend
    >>> from eurisko.expr import ProgramBatch, var
    >>> data = Dataset.from_arrays(np.ones((5, 1)), np.ones(5))
    >>> NumbaBackend().losses(ProgramBatch.from_programs([var(0)]), data).loss
    array([0.])
    """

    name = "numba"

    def __init__(self, block_size: int | None = None, n_threads: int | None = None) -> None:
        self.block_size = check_int(block_size, "block_size", low=1, none_ok=True, what="rows",
                                    hint="None picks 512 rows (1024 in float32)")
        self.n_threads = check_int(n_threads, "n_threads", low=1, none_ok=True,
                                   hint="None uses the cores this process may use")

    def __repr__(self) -> str:
        return f"NumbaBackend(block_size={self.block_size!r}, n_threads={self.n_threads!r})"

    # -- plumbing --------------------------------------------------------------------------

    def _block(self, dtype: np.dtype) -> int:
        if self.block_size is None:
            return 1024 if dtype == np.float32 else 512
        return self.block_size

    def _threads(self) -> int:
        if self.n_threads is None:
            return _default_threads()
        return self.n_threads

    def _setup(self, batch: ProgramBatch, data: Dataset):
        Xt = _check_data(data)
        prep = _prepare(batch, Xt.shape[0])
        return Xt, prep

    def _kernel(self, what: str, Xt: np.ndarray):
        suffix = "f32" if Xt.dtype == np.float32 else "f64"
        block = min(self._block(Xt.dtype), max(Xt.shape[1], 1))
        return getattr(kernel_module(), f"{what}_{suffix}"), block

    def _run(self, kernel, n_programs: int, head: tuple, tail: tuple) -> None:
        """Run ``kernel(*head, first, step, *tail)`` over the programs, on the thread pool.

        Programs are dealt round-robin to ``step`` tasks (several per thread, so uneven program
        sizes even out); the kernels release the GIL.
        """
        threads = self._threads()
        step = max(1, min(n_programs, 4 * threads)) if threads > 1 else 1
        try:
            if step == 1:
                kernel(*head, 0, 1, *tail)
                return
            pool = _thread_pool(threads)
            futures = [pool.submit(kernel, *head, t, step, *tail) for t in range(step)]
            for f in futures:
                f.result()
        except Exception as e:
            from numba.core.errors import NumbaError

            if not isinstance(e, NumbaError):
                raise
            custom = [op.name for op in registry() if op not in _BUILTIN_OPS]
            closs = [lo.name for lo in custom_losses()]
            raise ValueError(
                "compiling the evaluation kernels failed"
                + (f"; check the scalar code and derivatives of the custom operators {custom}"
                   if custom else "")
                + (f"; check the scalar code and weights of the custom losses {closs}"
                   if closs else "")
                + f" (numba says: {str(e).splitlines()[0] if str(e) else type(e).__name__})"
            ) from e

    def warm_up(self, dtype=np.float64, jacobian: bool = True) -> NumbaBackend:
        """Compile the kernels for ``dtype`` now (or load them from the cache: well under a
        second), e.g. in a background thread while data are being prepared. Returns self."""
        from eurisko.expr.program import const, var

        data = Dataset.from_arrays(np.ones((4, 1)), np.arange(4.0), dtype=dtype)
        batch = ProgramBatch.from_programs([var(0), const(1.0)])
        self.predict(batch, data)
        self.losses(batch, data, True)
        if jacobian:
            self.jacobian(batch, data)
        return self

    # -- the contract ----------------------------------------------------------------------

    def predict(
        self, batch: ProgramBatch, data: Dataset, *, out: np.ndarray | None = None
    ) -> np.ndarray:
        """(n_programs, n_rows) outputs in the data's dtype; non-finite values are kept.

        ``out``, when given, is a C-contiguous array of that shape and dtype to write into
        (saves allocating, and first-touching, a large result on every call).
        """
        Xt, prep = self._setup(batch, data)
        shape = (prep.n_programs, Xt.shape[1])
        if out is None:
            out = np.empty(shape, dtype=Xt.dtype)
        elif (
            not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != Xt.dtype
            or not out.flags.c_contiguous or not out.flags.writeable
        ):
            raise ValueError(
                f"out must be a writeable C-contiguous {Xt.dtype} array of shape {shape}"
            )
        if prep.n_programs == 0 or Xt.shape[1] == 0:
            return out
        kernel, block = self._kernel("predict", Xt)
        self._run(
            kernel, prep.n_programs,
            (*prep.kernel_args(), Xt, prep.max_depth, prep.max_consts, block), (out,),
        )
        return out

    def losses(self, batch: ProgramBatch, data: Dataset, linear_scaling: bool = False) -> Losses:
        """Weighted MSE of every program (inf where its output is not finite anywhere), or
        the data's other loss (``data.loss``, `evaluate.losses`).

        With ``linear_scaling`` the output is first fitted as ``a + b * f`` by weighted least
        squares (``b = 0`` when ``f`` is constant to within rounding); ``scale`` holds ``(a, b)``.
        The outputs are never stored: moments are accumulated block by block (shifted and
        combined pairwise, so they do not cancel), and a near-perfect fit is re-summed from its
        residuals. Other losses keep one program's outputs (float64) and fit ``a, b`` by IRLS
        (`losses.robust_fit`), a pass over them per round.
        """
        Xt, prep = self._setup(batch, data)
        if data.y is None:
            raise ValueError("losses need a target: build the Dataset with y")
        n_rows = Xt.shape[1]
        y = _vector(data.y, n_rows, "y")
        weighted = data.w is not None
        w = _vector(data.w, n_rows, "w") if weighted else np.ones(n_rows)
        n = prep.n_programs
        loss = np.full(n, np.inf)
        scale = np.tile(np.array([0.0, 1.0]), (n, 1))
        if n == 0 or n_rows == 0:
            return Losses(loss, scale)
        if not data.loss.is_l2:
            kernel, block = self._kernel("rlosses", Xt)
            self._run(
                kernel, n,
                (*prep.kernel_args(), Xt, y, w, loss_code(data.loss.name),
                 float(data.loss.scale), prep.max_depth, prep.max_consts, block,
                 bool(linear_scaling)),
                (loss, scale),
            )
            return Losses(loss, scale)
        sum_w = float(w.sum())
        ymean = float((w * y).sum() / sum_w) if sum_w > 0 else 0.0
        # the kernel reads targets and weights in the data's dtype (half the memory traffic in
        # float32); the float64 totals below are taken from exactly those rounded values
        T = Xt.dtype
        yT = np.ascontiguousarray(y, dtype=T)
        wT = np.ascontiguousarray(w, dtype=T)
        hT = (y - ymean).astype(T)
        w64 = wT.astype(np.float64)
        h64 = hT.astype(np.float64)
        sum_w = float(w64.sum())
        whc = w64 * h64
        kernel, block = self._kernel("losses", Xt)
        self._run(
            kernel, n,
            (*prep.kernel_args(), Xt, yT, wT, hT, weighted, sum_w, float(whc.sum()),
             float((whc * h64).sum()), ymean, prep.max_depth, prep.max_consts, block,
             bool(linear_scaling)),
            (loss, scale),
        )
        return Losses(loss, scale)

    def jacobian(self, batch: ProgramBatch, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """``(pred, jac)`` in the data's dtype: pred (n_programs, n_rows), jac (n_consts, n_rows).

        Row ``k`` of ``jac`` is the derivative of its program's output with respect to
        ``batch.consts[k]``, by one reverse sweep per block of rows.
        """
        Xt, prep = self._setup(batch, data)
        n_rows = Xt.shape[1]
        pred = np.empty((prep.n_programs, n_rows), dtype=Xt.dtype)
        jac = np.zeros((len(prep.consts), n_rows), dtype=Xt.dtype)
        if prep.n_programs == 0 or n_rows == 0:
            return pred, jac
        kernel, block = self._kernel("jacobian", Xt)
        block = min(block, 256)
        self._run(
            kernel, prep.n_programs,
            (*prep.kernel_args(), Xt, prep.max_len, prep.max_consts, block), (pred, jac),
        )
        return pred, jac
