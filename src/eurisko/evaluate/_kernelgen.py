"""Source generator for the numba kernels: the interpreter is written from the operator registry.

Nothing here imports numba: this module only turns ``registry()`` into the text of a Python
module (``kernel_source``). ``numba_backend`` writes that text to a file in the kernel cache and
imports it, so that ``@numba.njit(cache=True)`` finds its compiled code again in later processes.

The generated module defines, for each data type ``S`` in ``f32``/``f64``, three serial
``nogil`` kernels that handle programs ``first, first + step, ...`` of a batch (the backend runs
``step`` of them on a thread pool):

``predict_S(codes, args, node_off, consts, const_off, Xt, max_depth, max_consts, block,
            first, step, out)``
    fills ``out`` (n_programs, n_rows) with the outputs;
``losses_S(codes, args, node_off, consts, const_off, Xt, y, w, hc, weighted, sum_w, sum_whc,
           m2h, ymean, max_depth, max_consts, block, scaling, first, step, out_loss, out_scale)``
    the loss rule of ``evaluate.base.scaled_losses`` without materialising the predictions;
``jacobian_S(codes, args, node_off, consts, const_off, Xt, max_len, max_consts, block,
             first, step, pred, jac)``
    outputs and reverse-mode derivatives with respect to the constants;
``rlosses_S(codes, args, node_off, consts, const_off, Xt, y, w, lcode, d, max_depth,
            max_consts, block, scaling, first, step, out_loss, out_scale)``
    the rule of ``losses.robust_fit`` for the loss of code ``lcode`` of the loss registry
    (``_rho``/``_omega`` hold one branch per registered loss, from its scalar code).

All of them run the interpreter ``_eval_block_S`` on blocks of rows: one ``elif`` branch per
registry operator, whose body is a loop over the rows of the block with the operator's scalar
code inside, so the dispatch costs once per node and block and the loop vectorises.

Operator code is rewritten on the way (``kernel_expr``): float literals become float32 in the
float32 kernels, and ``np.exp``, ``np.log``, ``np.sin``, ``a ** b``... become calls that LLVM's
loop vectorizer maps to glibc's libmvec (8 float32 or 4 float64 lanes per call) when the machine
has it. Lanes whose argument would send libmvec down its slow path (NaN, huge arguments) are
recomputed by the scalar function after the vector loop.

Op codes: 0 variable (arg = column), 1 constant (arg = index in the program's constants),
operator ``i`` of the registry has code ``i + 2``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
from collections.abc import Sequence

from eurisko.evaluate.losses import IRLS_ITER, IRLS_RTOL, Loss
from eurisko.evaluate.losses import registry as loss_registry
from eurisko.expr.operators import FIRST_OP, Operator, registry, registry_fingerprint

#: bump when the template below changes, so stale kernel files are rewritten
GENERATOR_VERSION = 20

#: LLVM fast-math flags: no ``nnan``/``ninf``, so NaN and Inf are still seen and propagated
FASTMATH = ("afn", "arcp", "contract", "nsz", "reassoc")

_DTYPES = {"f32": "np.float32", "f64": "np.float64"}
#: machine epsilon of each compute type (zero-variance test of linear scaling)
_EPS = {"f32": 1.1920928955078125e-07, "f64": 2.220446049250313e-16}


# ----------------------------------------------------------------------------------------------
# vectorised math: glibc's libmvec

#: C name -> number of arguments, for the libmvec functions the kernels may call
_VM_FUNCS = {
    "exp": 1, "log": 1, "sin": 1, "cos": 1, "tan": 1, "tanh": 1, "sinh": 1, "cosh": 1,
    "log1p": 1, "expm1": 1, "atan": 1, "asin": 1, "acos": 1, "cbrt": 1, "log2": 1,
    "log10": 1, "exp2": 1, "erf": 1, "pow": 2, "atan2": 2,
}
#: numpy / math spellings of those functions
_VM_ALIASES = {"power": "pow", "arctan": "atan", "arcsin": "asin", "arccos": "acos",
               "arctan2": "atan2"}


def vector_math() -> tuple[str | None, tuple[str, ...]]:
    """Path of glibc's libmvec and the functions it vectorises here, or (None, ()).

    Used when the CPU has AVX2 and FMA (the ``_ZGVd`` variants) and ``EURISKO_NO_LIBMVEC`` is
    not set. LLVM's loop vectorizer then turns ``np.exp`` in a row loop into one call per 8
    float32 (4 float64) rows instead of 8 scalar calls.
    """
    if os.environ.get("EURISKO_NO_LIBMVEC"):
        return None, ()
    try:
        import ctypes
        import ctypes.util

        import llvmlite.binding as llb

        feats = llb.get_host_cpu_features()
        if not (feats.get("avx2") and feats.get("fma")):
            return None, ()
        path = ctypes.util.find_library("mvec")
        if not path:
            return None, ()
        lib = ctypes.CDLL(path)
    except (OSError, ImportError, RuntimeError):
        return None, ()
    names = tuple(
        n for n, k in _VM_FUNCS.items()
        if hasattr(lib, f"_ZGVdN8{'v' * k}_{n}f") and hasattr(lib, f"_ZGVdN4{'v' * k}_{n}")
    )
    return (path, names) if names else (None, ())


class _Rewrite(ast.NodeTransformer):
    """Scalar operator code -> kernel code: libmvec calls, float32 literals."""

    def __init__(self, ctype: str, vm: tuple[str, ...]) -> None:
        self.ctype = ctype
        self.vm = vm

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id in ("np", "numpy", "math") and not node.keywords):
            name = _VM_ALIASES.get(f.attr, f.attr)
            if name in self.vm and len(node.args) == _VM_FUNCS[name]:
                return ast.Call(ast.Name(f"_vm_{name}", ast.Load()), node.args, [])
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        int_power = isinstance(node.right, ast.Constant) and isinstance(node.right.value, int)
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow) and "pow" in self.vm and not int_power:
            return ast.Call(ast.Name("_vm_pow", ast.Load()), [node.left, node.right], [])
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.ctype != "np.float64" and isinstance(node.value, float):
            return ast.Call(
                ast.Attribute(ast.Name("np", ast.Load()), self.ctype[3:], ast.Load()), [node], []
            )
        return node


def kernel_expr(expr: str, ctype: str, vm: tuple[str, ...] = ()) -> str:
    """``expr`` as the kernel computes it in ``ctype``: float literals of that type (so float32
    code stays float32) and libmvec functions for the names in ``vm``."""
    tree = ast.parse(expr.strip(), mode="eval")
    tree = ast.fix_missing_locations(_Rewrite(ctype, vm).visit(tree))
    return ast.unparse(tree)


def _check_expr(op: Operator, expr: str, what: str) -> None:
    _check_python(f"operator {op.name!r}", expr, what, "register_operator")


def _check_python(owner: str, expr: str, what: str, register: str) -> None:
    """A one-line error naming ``owner`` (an operator or a loss) when ``expr`` is not Python."""
    try:
        ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(
            f"{owner}: its {what} {expr!r} is not a Python expression ({e.msg}); "
            f"fix it with {register}(..., replace=True)"
        ) from None


_VM_RUNTIME = """
# --- libmvec: calls that LLVM's loop vectorizer turns into 8 (float32) or 4 (float64) lanes ---
import llvmlite.binding as _llb
from llvmlite import ir as _ir

_llb.load_library_permanently({path!r})
_VM_NAMES = {names!r}
_VM_NARGS = {nargs!r}


class _CallAttrs(_ir.instructions.CallInstrAttributes):
    # call-site attributes llvmlite does not list: the vector variant of the scalar function
    _known = frozenset()

    def __init__(self, text):
        set.__init__(self)
        self._text = text

    def _to_list(self, typ=None):
        return [self._text]

    def __len__(self):
        return 1

    def __iter__(self):
        return iter((self._text,))


def _vm_decls(mod):
    # declare every vector variant once per LLVM module and keep it alive until the
    # vectorizer has run (an unused declaration would be dropped before)
    if "llvm.compiler.used" in mod.globals:
        return
    i8p = _ir.IntType(8).as_pointer()
    keep = []
    for name in _VM_NAMES:
        for lt, lanes, suffix in ((_ir.FloatType(), 8, "f"), (_ir.DoubleType(), 4, "")):
            k = _VM_NARGS[name]
            vt = _ir.VectorType(lt, lanes)
            vname = "_ZGVdN%d%s_%s%s" % (lanes, "v" * k, name, suffix)
            vfn = cgutils.get_or_insert_function(mod, _ir.FunctionType(vt, [vt] * k), vname)
            vfn.attributes.add("nounwind")
            vfn.attributes.add("readnone")
            keep.append(vfn.bitcast(i8p))
    used = _ir.GlobalVariable(mod, _ir.ArrayType(i8p, len(keep)), "llvm.compiler.used")
    used.linkage = "appending"
    used.section = "llvm.metadata"
    used.initializer = _ir.Constant(_ir.ArrayType(i8p, len(keep)), keep)


def _vm_call(builder, name, args, single):
    mod = builder.module
    _vm_decls(mod)
    lt = _ir.FloatType() if single else _ir.DoubleType()
    lanes, suffix = (8, "f") if single else (4, "")
    k = len(args)
    scalar = name + suffix
    fn = cgutils.get_or_insert_function(mod, _ir.FunctionType(lt, [lt] * k), scalar)
    fn.attributes.add("nounwind")
    fn.attributes.add("readnone")
    vname = "_ZGVdN%d%s_%s" % (lanes, "v" * k, scalar)
    call = builder.call(fn, args)
    call.attributes = _CallAttrs(
        'nounwind readnone "vector-function-abi-variant"="_ZGV_LLVM_N%d%s_%s(%s)"'
        % (lanes, "v" * k, scalar, vname)
    )
    return call


def _vm_typer(name, *args):
    if not all(isinstance(a, (types.Float, types.Integer, types.Boolean)) for a in args):
        return None
    rt = types.float32 if all(a == types.float32 for a in args) else types.float64
    sig = rt(*args)

    def codegen(context, builder, signature, llargs):
        vals = [context.cast(builder, v, t, rt) for v, t in zip(llargs, signature.args)]
        return _vm_call(builder, name, vals, rt == types.float32)

    return sig, codegen

"""


def _vm_bindings(vm: tuple[str, ...]) -> str:
    out = []
    for n in vm:
        params = ", ".join("xy"[: _VM_FUNCS[n]])
        out += ["@intrinsic", f"def _vm_{n}(typingctx, {params}):",
                f"    return _vm_typer({n!r}, {params})", "", ""]
    return "\n".join(out)


def _user_imports(ops: Sequence[Operator]) -> tuple[str, str]:
    """Import lines for custom operators given as functions, and a hash of their source."""
    lines: list[str] = []
    h = hashlib.sha1()
    for op in ops:
        for j, (module, name) in enumerate(op.imports):
            raw = f"_raw_user_{op.name}" if j == 0 else f"_raw_user_{op.name}_{j}"
            alias = raw.replace("_raw_user_", "_user_")
            lines.append(f"from {module} import {name} as {raw}")
            lines.append(
                f"{alias} = {raw} if isinstance({raw}, _Dispatcher) else numba.njit({raw})"
            )
            try:  # a changed body must change the file, so numba's cache is not stale
                import importlib

                fn = getattr(importlib.import_module(module), name)
                fn = getattr(fn, "py_func", fn)
                h.update(inspect.getsource(fn).encode())
            except (OSError, TypeError, ImportError, AttributeError):
                h.update(f"{module}.{name}".encode())
    return "\n".join(lines), h.hexdigest()[:16]


def _indent(lines: list[str], n: int) -> list[str]:
    return [(" " * n + ln) if ln else ln for ln in lines]


def _op_comment(op: Operator) -> str:
    return op.name.replace("\n", " ")


# ----------------------------------------------------------------------------------------------
# pieces of the generated code


#: arguments on which libmvec's vector code stays on its fast path, per float32 / float64;
#: conservative (a lane outside only costs a scalar call), never a matter of correctness
_FAST_DOMAIN = {
    "exp": ("abs(a) < 80.0", "abs(a) < 700.0"),
    "log": ("(a > 1e-30) & (a < 1e30)", "(a > 1e-300) & (a < 1e300)"),
    "sin": ("abs(a) < 1e4", "abs(a) < 1e5"),
    "cos": ("abs(a) < 1e4", "abs(a) < 1e5"),
    "tan": ("abs(a) < 1e4", "abs(a) < 1e5"),
    "tanh": ("abs(a) < 20.0", "abs(a) < 40.0"),
    "sinh": ("abs(a) < 80.0", "abs(a) < 700.0"),
    "cosh": ("abs(a) < 80.0", "abs(a) < 700.0"),
    "asin": ("abs(a) <= 1.0", "abs(a) <= 1.0"),
    "acos": ("abs(a) <= 1.0", "abs(a) <= 1.0"),
    "pow": ("(a > 1e-4) & (a < 1e4) & (abs(b) < 8.0)",
            "(a > 1e-8) & (a < 1e8) & (abs(b) < 30.0)"),
}


#: cheap exact answers for common arguments outside the fast domain (float32, float64)
_SPECIAL = {
    "log": ([("a < 0.0", "np.nan"), ("a == 0.0", "-np.inf")],) * 2,
    "exp": ([("a > 89.0", "np.inf"), ("a < -104.0", "0.0")],
            [("a > 710.0", "np.inf"), ("a < -746.0", "0.0")]),
    "tanh": ([("a > 20.0", "1.0"), ("a < -20.0", "-1.0")],
             [("a > 40.0", "1.0"), ("a < -40.0", "-1.0")]),
    # sinh and cosh overflow past ln(2 * largest float): 89.4 (float32), 710.5 (float64)
    # (one test for both signs: a branch on the sign of random arguments mispredicts)
    "sinh": ([("abs(a) > 90.0", "a * np.inf")], [("abs(a) > 711.0", "a * np.inf")]),
    "cosh": ([("abs(a) > 90.0", "np.inf")], [("abs(a) > 711.0", "np.inf")]),
    "asin": ([("abs(a) > 1.0", "np.nan")],) * 2,
    "acos": ([("abs(a) > 1.0", "np.nan")],) * 2,
}


def _fast_domain(expr: str, arity: int, s: str) -> tuple[str, str, str] | None:
    """For ``expr`` a lone libmvec call on the operator's arguments: its fast-path predicate,
    the call with out-of-domain arguments replaced by 1.0, and the function's name; else None."""
    tree = ast.parse(expr, mode="eval").body
    names = ["a", "b"][:arity]
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)
            and tree.func.id.startswith("_vm_")
            and [getattr(x, "id", None) for x in tree.args] == names):
        return None
    name = tree.func.id[4:]
    if name not in _FAST_DOMAIN:
        return None
    T = _DTYPES[s]
    pred = kernel_expr(_FAST_DOMAIN[name][0 if s == "f32" else 1], T)
    # `one` is 1.0 known only at run time: with a constant, LLVM folds f(select(ok, a, 1.0))
    # into select(ok, f(a), f(1.0)) and drops the vector-variant attribute of the call
    args = ", ".join(f"{n} if ok else one" for n in names)
    return pred, f"{tree.func.id}({args})", name


def _eval_block(ops: Sequence[Operator], s: str, vm: tuple[str, ...]) -> str:
    """Interpreter on one block of rows; returns a view of the program's output on the block.

    Leaves are not copied: a stack entry is the address of a variable's column (in ``Xt``), of
    a constant's row (``cbuf``, filled once per program) or of a row of ``stk`` holding an
    intermediate result. Operands are pointer views (no reference counting, no branch on their
    origin). Each operator writes to a row distinct from its inputs (or to ``dst`` for the
    program's last node), so the inner loops vectorise without aliasing fallbacks.
    ``keep=True`` gives node ``j`` its own row ``j`` and records every node's address in
    ``naddr`` (for the reverse sweep of the Jacobian); otherwise rows are recycled.
    """
    T = _DTYPES[s]
    body = [
        "nfree = stk.shape[0]",
        "if not keep:",
        "    for i in range(nfree):",
        "        free[i] = i",
        "isz = Xt.itemsize",
        "xbase = _addr(Xt) + start * isz",
        "xrow = Xt.strides[0]",
        "cbase = _addr(cbuf)",
        "crow = cbuf.strides[0]",
        "sbase = _addr(stk)",
        "srow = stk.strides[0]",
        f"one = {T}(Xt.shape[0] > 0)  # 1.0, opaque to the optimiser (see _fast_domain)",
        "sp = 0",
        "for k in range(lo, hi):",
        "    c = codes[k]",
        "    if c <= 1:",
        "        if c == 0:",
        "            a0 = xbase + args[k] * xrow",
        "        else:",
        "            a0 = cbase + args[k] * crow",
        "        addr[sp] = a0",
        "        ref[sp] = -1",
        "        sp += 1",
        "        if keep:",
        "            naddr[k - lo] = a0",
        "        continue",
        "    if k == hi - 1:",
        "        row = -1",
        "        oaddr = _addr(dst)",
        "    elif keep:",
        "        row = -1",
        "        oaddr = sbase + (k - lo) * srow",
        "    else:",
        "        nfree -= 1",
        "        row = free[nfree]",
        "        oaddr = sbase + row * srow",
        f"    O = numba.carray(_ptr(oaddr), m, {T})",
        "    n_in = _ARITY[c]",
        f"    A = numba.carray(_ptr(addr[sp - n_in]), m, {T})",
        f"    B = numba.carray(_ptr(addr[sp - 1]), m, {T})  # (= A for a unary operator)",
    ]
    for i, op in enumerate(ops):
        code = FIRST_OP + i
        expr = kernel_expr(op.scalar, T, vm)
        kw = "if" if i == 0 else "elif"
        body.append(f"    {kw} c == {code}:  # {_op_comment(op)}")
        loads = ["            a = A[r]"] + (["            b = B[r]"] if op.arity == 2 else [])
        fast = _fast_domain(expr, op.arity, s)
        if fast is None:
            body += ["        for r in range(m):", *loads, f"            O[r] = {expr}"]
            continue
        # a lone libmvec call: its vector code takes a slow path for NaN, Inf or far-out
        # arguments, so those lanes get a harmless argument in the vector loop and are
        # recomputed by the scalar function afterwards (rare, except in NaN-ridden programs)
        pred, safe_call, fname = fast
        scalar = kernel_expr(op.scalar, T, ())
        if op.arity == 2:
            fixup = [f"                    O[r] = {scalar}"]
        else:  # NaN in, NaN out; a few exact special values; else the scalar function
            # (these stay out of the vector loop: a select on the call's result there lets
            # LLVM sink the call into a branch, and the vector variant is lost)
            fixup = ["                    if a != a:", "                        O[r] = a"]
            for cond, val in _SPECIAL.get(fname, ([], []))[0 if s == "f32" else 1]:
                fixup += [f"                    elif {kernel_expr(cond, T)}:",
                          f"                        O[r] = {T}({val})"]
            fixup += ["                    else:", f"                        O[r] = {scalar}"]
        body += [
            "        nbad = 0",
            "        for r in range(m):",
            *loads,
            f"            ok = {pred}",
            f"            O[r] = {safe_call}",
            "            nbad += 0 if ok else 1",
            "        if nbad > 0:",
            "            for r in range(m):",
            *["    " + ln for ln in loads],
            f"                if not ({pred}):",
            *fixup,
        ]
    body += [
        "    for j in range(sp - n_in, sp):",
        "        if ref[j] >= 0:",
        "            free[nfree] = ref[j]",
        "            nfree += 1",
        "    sp -= n_in",
        "    addr[sp] = oaddr",
        "    ref[sp] = row",
        "    sp += 1",
        "    if keep:",
        "        naddr[k - lo] = oaddr",
        f"return numba.carray(_ptr(addr[0]), m, {T})",
    ]
    head = [
        "@numba.njit(**_OPTS)",
        f"def _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref, free, dst,",
        "                   keep, naddr):",
    ]
    return "\n".join(head + _indent(body, 4) + [""])


_COMMON = """
@intrinsic
def _ptr(typingctx, address):
    # int64 address -> void pointer, for numba.carray views that carry no reference count
    sig = types.voidptr(types.int64)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


@intrinsic
def _addr(typingctx, arr):
    # address of an array's first element, as int64
    sig = types.int64(arr)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, cgutils.intp_t)

    return sig, codegen


@intrinsic
def _keep_alive(typingctx, arr):
    # a use of ``arr`` that emits no code: an array reached only through its address
    # (``_addr``) would otherwise be freed after its last use as an array, and written after
    sig = types.void(arr)

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(**_OPTS)
def _fill_consts(cbuf, consts, c0, nc):
    for j in range(nc):
        v = consts[c0 + j]
        row = cbuf[j]
        for r in range(row.shape[0]):
            row[r] = v


@numba.njit(**_OPTS)
def _children(codes, lo, hi, ch0, ch1, hasc, istk):
    # child node of each operator, and whether a constant lies in each subtree
    sp = 0
    for j in range(hi - lo):
        c = codes[lo + j]
        ar = _ARITY[c]
        hasc[j] = c == 1
        if ar == 2:
            ch0[j] = istk[sp - 2]
            ch1[j] = istk[sp - 1]
            hasc[j] = hasc[ch0[j]] or hasc[ch1[j]]
            sp -= 2
        elif ar == 1:
            ch0[j] = istk[sp - 1]
            hasc[j] = hasc[ch0[j]]
            sp -= 1
        istk[sp] = j
        sp += 1
"""


def _buffers(T: str, rows: str = "max_depth + 1") -> str:
    return f"""    stk = np.empty(({rows}, block), dtype={T})
    cbuf = np.empty((max(max_consts, 1), block), dtype={T})
    addr = np.empty({rows}, dtype=np.int64)
    ref = np.empty({rows}, dtype=np.int64)
    free = np.empty({rows}, dtype=np.int64)
    n_prog = node_off.shape[0] - 1
    n_rows = Xt.shape[1]
    isz = Xt.itemsize"""


def _predict(s: str) -> str:
    T = _DTYPES[s]
    return f"""
@numba.njit(**_OPTS)
def predict_{s}(codes, args, node_off, consts, const_off, Xt, max_depth, max_consts, block,
               first, step, out):
{_buffers(T)}
    naddr = np.empty(1, dtype=np.int64)
    obase = _addr(out)
    orow = out.strides[0]
    for p in range(first, n_prog, step):
        lo = node_off[p]
        hi = node_off[p + 1]
        _fill_consts(cbuf, consts, const_off[p], const_off[p + 1] - const_off[p])
        for start in range(0, n_rows, block):
            m = min(block, n_rows - start)
            O = numba.carray(_ptr(obase + p * orow + start * isz), m, {T})
            R = _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref, free,
                                O, False, naddr)
            if codes[hi - 1] <= 1:
                for r in range(m):
                    O[r] = R[r]
"""


def _losses(s: str) -> str:
    T = _DTYPES[s]
    eps = _EPS[s]
    return f"""
@numba.njit(**_OPTS)
def losses_{s}(codes, args, node_off, consts, const_off, Xt, y, w, hc, weighted, sum_w,
               sum_whc, m2h, ymean, max_depth, max_consts, block, scaling, first, step,
               out_loss, out_scale):
    # y, w and hc = y - ymean in the data's dtype (w all ones when not weighted);
    # sum_w = sum(w), sum_whc = sum(w * hc), m2h = sum(w * hc**2) in float64
{_buffers(T)}
    naddr = np.empty(1, dtype=np.int64)
    dst = np.empty(block, dtype={T})
    W = sum_w
    for p in range(first, n_prog, step):
        lo = node_off[p]
        hi = node_off[p + 1]
        _fill_consts(cbuf, consts, const_off[p], const_off[p + 1] - const_off[p])
        out_loss[p] = np.inf
        out_scale[p, 0] = 0.0
        out_scale[p, 1] = 1.0
        bad = False
        kf = 0.0
        S1 = 0.0
        S2 = 0.0
        S3 = 0.0
        start = 0
        while start < n_rows:
            # a short first block: programs that are NaN everywhere stop after a few rows
            m = min(block if start > 0 else min(block, 64), n_rows - start)
            F = _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref, free,
                                dst[:m], False, naddr)
            if start == 0:
                kf = np.float64(F[0])  # shift: sums of (f - kf) do not cancel
            s1 = 0.0
            s2 = 0.0
            if scaling:
                s3 = 0.0
                if weighted:
                    for r in range(m):
                        g = np.float64(F[r]) - kf
                        wg = np.float64(w[start + r]) * g
                        s1 += wg
                        s2 += wg * g
                        s3 += wg * np.float64(hc[start + r])
                else:
                    for r in range(m):
                        g = np.float64(F[r]) - kf
                        s1 += g
                        s2 += g * g
                        s3 += g * np.float64(hc[start + r])
                S3 += s3
            elif weighted:
                for r in range(m):
                    fr = np.float64(F[r])
                    wr = np.float64(w[start + r])
                    d = fr - np.float64(y[start + r])
                    s1 += wr * fr
                    s2 += wr * d * d
            else:
                for r in range(m):
                    fr = np.float64(F[r])
                    d = fr - np.float64(y[start + r])
                    s1 += fr
                    s2 += d * d
            if not np.isfinite(s1):  # a NaN or Inf output anywhere makes s1 non-finite
                bad = True
                break
            S1 += s1
            S2 += s2
            start += m
        if bad or not (W > 0.0):
            continue
        if not scaling:
            v = S2 / W
            if np.isfinite(v):
                out_loss[p] = v
            continue
        MG = S1 / W
        M2G = S2 - S1 * MG
        CGH = S3 - MG * sum_whc
        M2H = m2h - sum_whc * sum_whc / W
        mf = kf + MG
        my = ymean + sum_whc / W
        b = 0.0
        if M2G > W * ({2.0 * eps!r} * mf) ** 2 and M2G > 0.0:
            b = CGH / M2G
        a = my - b * mf
        v = (M2H - b * CGH) / W
        if v < 0.0:
            v = 0.0
        if b != 0.0 and v <= 1e-5 * M2H / W:
            # near-perfect fit: the moment formula cancels, sum the residuals themselves
            se = 0.0
            for start in range(0, n_rows, block):
                m = min(block, n_rows - start)
                F = _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref,
                                    free, dst[:m], False, naddr)
                for r in range(m):
                    d = a + b * np.float64(F[r]) - np.float64(y[start + r])
                    se += np.float64(w[start + r]) * d * d
            v = se / W
        out_scale[p, 0] = a
        out_scale[p, 1] = b
        if np.isfinite(v):
            out_loss[p] = v
"""


def _jacobian(ops: Sequence[Operator], s: str, vm: tuple[str, ...]) -> str:
    T = _DTYPES[s]
    bwd = [
        "for j in range(n - 1, -1, -1):",
        "    if not hasc[j]:",
        "        continue",
        "    k = lo + j",
        "    c = codes[k]",
        f"    GY = numba.carray(_ptr(gbase + j * grow), m, {T})",
        "    if c == 1:",
        f"        J = numba.carray(_ptr(jbase + (c0 + args[k]) * jrow + start * isz), m, {T})",
        "        for r in range(m):",
        "            J[r] += GY[r]",
        "        continue",
        "    if c == 0:",
        "        continue",
        f"    Y = numba.carray(_ptr(naddr[j]), m, {T})",
        f"    A = numba.carray(_ptr(naddr[ch0[j]]), m, {T})",
        f"    B = numba.carray(_ptr(naddr[ch1[j]]), m, {T})  # (unused for a unary operator)",
        f"    GA = numba.carray(_ptr(gbase + ch0[j] * grow), m, {T})",
        f"    GB = numba.carray(_ptr(gbase + ch1[j] * grow), m, {T})",
    ]
    for i, op in enumerate(ops):
        code = FIRST_OP + i
        grads = [kernel_expr(g, T, vm) for g in op.grad]
        bwd.append(f"    {'if' if i == 0 else 'elif'} c == {code}:  # {_op_comment(op)}")
        if op.arity == 2:
            # one loop for both partials (a partial into a constant-free subtree is unused)
            bwd += [
                "        for r in range(m):",
                "            a = A[r]",
                "            b = B[r]",
                "            y = Y[r]",
                "            g = GY[r]",
                f"            GA[r] = g * ({grads[0]})",
                f"            GB[r] = g * ({grads[1]})",
            ]
        else:
            bwd += [
                "        for r in range(m):",
                "            a = A[r]",
                "            y = Y[r]",
                f"            GA[r] = GY[r] * ({grads[0]})",
            ]
    head = f"""
@numba.njit(**_OPTS)
def jacobian_{s}(codes, args, node_off, consts, const_off, Xt, max_len, max_consts, block,
                 first, step, pred, jac):
{_buffers(T, "max_len")}
    naddr = np.empty(max_len, dtype=np.int64)
    G = np.empty((max_len, block), dtype={T})
    ch0 = np.zeros(max_len, dtype=np.int64)
    ch1 = np.zeros(max_len, dtype=np.int64)
    hasc = np.zeros(max_len, dtype=np.bool_)
    istk = np.zeros(max_len, dtype=np.int64)
    pbase = _addr(pred)
    prow = pred.strides[0]
    jbase = _addr(jac)
    jrow = jac.strides[0]
    gbase = _addr(G)
    grow = G.strides[0]
    for p in range(first, n_prog, step):
        lo = node_off[p]
        hi = node_off[p + 1]
        c0 = const_off[p]
        n = hi - lo
        _children(codes, lo, hi, ch0, ch1, hasc, istk)
        _fill_consts(cbuf, consts, c0, const_off[p + 1] - c0)
        for start in range(0, n_rows, block):
            m = min(block, n_rows - start)
            O = numba.carray(_ptr(pbase + p * prow + start * isz), m, {T})
            R = _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref, free,
                                O, True, naddr)
            if codes[hi - 1] <= 1:
                for r in range(m):
                    O[r] = R[r]
            if not hasc[n - 1]:
                continue
            G1 = numba.carray(_ptr(gbase + (n - 1) * grow), m, {T})
            for r in range(m):
                G1[r] = 1.0
"""
    # G is reached only through gbase: keep it until the last program is done
    return head + "\n".join(_indent(bwd, 12)) + "\n    _keep_alive(G)\n"


def _loss_imports(losses: Sequence[Loss]) -> tuple[str, str]:
    """Import lines for losses given as functions, and a hash of their source."""
    lines: list[str] = []
    h = hashlib.sha1()
    for lo in losses:
        for module, name, alias in lo.imports:
            lines.append(f"from {module} import {name} as _raw{alias}")
            lines.append(f"{alias} = _raw{alias} if isinstance(_raw{alias}, _Dispatcher) "
                         f"else numba.njit(_raw{alias})")
            try:
                import importlib

                fn = getattr(importlib.import_module(module), name)
                fn = getattr(fn, "py_func", fn)
                h.update(inspect.getsource(fn).encode())
            except (OSError, TypeError, ImportError, AttributeError):
                h.update(f"{module}.{name}".encode())
    return "\n".join(lines), h.hexdigest()[:16]


def _check_loss_expr(lo: Loss, expr: str, what: str) -> None:
    _check_python(f"loss {lo.name!r}", expr, what, "register_loss")


def _loss_functions(losses: Sequence[Loss]) -> str:
    """``_rho(k, r, d)`` and ``_omega(k, r, d)``: value and IRLS weight of loss ``k``, in
    float64, one branch per registered loss; ``_robust_fit``, the rule of
    ``losses.robust_fit`` on a row of outputs."""
    rho = ["@numba.njit(**_OPTS)", "def _rho(k, r, d):"]
    omega = ["@numba.njit(**_OPTS)", "def _omega(k, r, d):"]
    for i, lo in enumerate(losses):
        rho += [f"    if k == {i}:  # {lo.name}", f"        return {lo.scalar.strip()}"]
        omega.append(f"    if k == {i}:  # {lo.name}")
        if lo.weight is not None:
            omega.append(f"        return {lo.weight.strip()}")
        else:  # a central difference of rho, as Loss.weights
            omega += ["        h = 1e-4 * (abs(r) + d)",
                      "        re = r if abs(r) > h else h",
                      "        return (_rho(k, re + h, d) - _rho(k, re - h, d)) / (4.0 * h * re)"]
    rho.append("    return np.nan")
    omega.append("    return np.nan")
    fit = f"""
@numba.njit(**_OPTS)
def _robust_fit(F, y, w, W, k, d, scaling, eps):
    # (a, b, mean loss) of a + b F (of F alone without scaling): IRLS from least squares
    n = F.shape[0]
    if not scaling:
        L = 0.0
        for r in range(n):
            L += w[r] * _rho(k, F[r] - y[r], d)
        return 0.0, 1.0, L / W
    kf = F[0]
    ky = y[0]
    S = 0.0
    Sg = 0.0
    Sgg = 0.0
    Sh = 0.0
    Sgh = 0.0
    for r in range(n):
        g = F[r] - kf
        h = y[r] - ky
        u = w[r]
        S += u
        Sg += u * g
        Sgg += u * g * g
        Sh += u * h
        Sgh += u * g * h
    vg = Sgg - Sg * (Sg / S)
    const = not (vg > S * (2.0 * eps * (kf + Sg / S)) ** 2 and vg > 0.0)
    mg = Sg / S
    mh = Sh / S
    b = 0.0
    if not const and vg > 0.0:
        b = (Sgh - Sg * mh) / vg
    a = (ky + mh) - b * (kf + mg)
    best = np.inf
    ba = a
    bb = b
    for it in range({IRLS_ITER} + 1):
        L = 0.0
        S = 0.0
        Sg = 0.0
        Sgg = 0.0
        Sh = 0.0
        Sgh = 0.0
        for r in range(n):
            res = a + b * F[r] - y[r]
            L += w[r] * _rho(k, res, d)
            u = w[r] * _omega(k, res, d)
            g = F[r] - kf
            h = y[r] - ky
            S += u
            Sg += u * g
            Sgg += u * g * g
            Sh += u * h
            Sgh += u * g * h
        L = L / W
        if not L < best:
            break
        improved = best - L > {IRLS_RTOL!r} * L
        best = L
        ba = a
        bb = b
        if not improved or it == {IRLS_ITER}:
            break
        if not S > 0.0:
            break
        mg = Sg / S
        mh = Sh / S
        vg = Sgg - Sg * mg
        b = 0.0
        if not const and vg > 0.0:
            b = (Sgh - Sg * mh) / vg
        a = (ky + mh) - b * (kf + mg)
    return ba, bb, best
"""
    return "\n".join(rho) + "\n\n\n" + "\n".join(omega) + "\n\n" + fit


def _rlosses(s: str) -> str:
    T = _DTYPES[s]
    eps = _EPS[s]
    return f"""
@numba.njit(**_OPTS)
def rlosses_{s}(codes, args, node_off, consts, const_off, Xt, y, w, lcode, d, max_depth,
                max_consts, block, scaling, first, step, out_loss, out_scale):
    # y and w in float64; the outputs of a program are kept (float64) for the IRLS passes
{_buffers(T)}
    naddr = np.empty(1, dtype=np.int64)
    dst = np.empty(block, dtype={T})
    F = np.empty(n_rows, dtype=np.float64)
    W = 0.0
    for r in range(n_rows):
        W += w[r]
    for p in range(first, n_prog, step):
        lo = node_off[p]
        hi = node_off[p + 1]
        _fill_consts(cbuf, consts, const_off[p], const_off[p + 1] - const_off[p])
        out_loss[p] = np.inf
        out_scale[p, 0] = 0.0
        out_scale[p, 1] = 1.0
        bad = False
        for start in range(0, n_rows, block):
            m = min(block, n_rows - start)
            R = _eval_block_{s}(codes, args, lo, hi, cbuf, Xt, start, m, stk, addr, ref, free,
                                dst[:m], False, naddr)
            for r in range(m):
                v = np.float64(R[r])
                if not np.isfinite(v):
                    bad = True
                F[start + r] = v
            if bad:
                break
        if bad or not (W > 0.0):
            continue
        a, b, v = _robust_fit(F, y, w, W, lcode, d, scaling, {eps!r})
        out_scale[p, 0] = a
        out_scale[p, 1] = b
        if np.isfinite(v):
            out_loss[p] = v
"""


def kernel_source(ops: Sequence[Operator] | None = None, vector_math_lib: str | None = None,
                  vector_math_names: Sequence[str] = (),
                  losses: Sequence[Loss] | None = None) -> str:
    """The text of the kernel module for ``ops`` (default: the current registry).

    ``vector_math_lib``/``vector_math_names`` (see ``vector_math()``) switch the listed
    ``np``/``math`` functions to glibc's vectorised libmvec; without them the kernels call the
    scalar functions, one row at a time.
    """
    ops = registry() if ops is None else tuple(ops)
    losses = loss_registry() if losses is None else tuple(losses)
    for op in ops:
        _check_expr(op, op.scalar, "scalar code")
        for g in op.grad:
            _check_expr(op, g, "derivative")
    for lo in losses:
        _check_loss_expr(lo, lo.scalar, "scalar code")
        if lo.weight is not None:
            _check_loss_expr(lo, lo.weight, "weight")
    loss_imports, loss_hash = _loss_imports(losses)
    vm = tuple(vector_math_names) if vector_math_lib else ()
    imports, user_hash = _user_imports(ops)
    arity = [0, 0] + [op.arity for op in ops]
    parts = [
        "# Generated by eurisko.evaluate._kernelgen from the operator registry. Do not edit:",
        "# the file is rewritten whenever the registry or the generator changes.",
        f"# registry fingerprint: {registry_fingerprint() if ops == registry() else 'custom'}",
        f"# generator version: {GENERATOR_VERSION}",
        f"# custom operator sources: {user_hash}",
        f"# losses: {', '.join(lo.name for lo in losses)}; custom loss sources: {loss_hash}",
        f"# vector math: {vector_math_lib or 'none'}",
        "import math  # noqa: F401  (operator code may use it)",
        "",
        "import numba",
        "import numpy as np",
        "from numba.core import cgutils, types",
        "from numba.core.registry import CPUDispatcher as _Dispatcher  # noqa: F401",
        "from numba.extending import intrinsic",
        "",
        imports,
        loss_imports,
        "",
        "_OPTS = dict(cache=True, error_model='numpy', nogil=True,",
        "             fastmath={" + ", ".join(repr(f) for f in FASTMATH) + "})",
        f"_ARITY = np.array({arity!r}, dtype=np.int64)",
        f"N_CODES = {len(arity)}",
        f"OPERATORS = {tuple(op.name for op in ops)!r}",
        f"VECTOR_MATH = {vm!r}",
    ]
    if vm:
        parts.append(_VM_RUNTIME.format(
            path=vector_math_lib, names=vm, nargs={n: _VM_FUNCS[n] for n in vm}))
        parts.append(_vm_bindings(vm))
    parts.append(_COMMON)
    parts.append(_loss_functions(losses))
    for s in ("f32", "f64"):
        parts += ["", _eval_block(ops, s, vm), _predict(s), _losses(s), _jacobian(ops, s, vm),
                  _rlosses(s)]
    return "\n".join(parts)
