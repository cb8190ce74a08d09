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
    outputs and reverse-mode derivatives with respect to the constants.

All of them run the interpreter ``_eval_block_S`` on blocks of rows: one ``elif`` branch per
registry operator, whose body is a loop over the rows of the block with the operator's scalar
code inside, so the dispatch costs once per node and block and the loop vectorises.

Op codes: 0 variable (arg = column), 1 constant (arg = index in the program's constants),
operator ``i`` of the registry has code ``i + 2``.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import tokenize
from collections.abc import Sequence

from eurisko.expr.operators import FIRST_OP, Operator, registry, registry_fingerprint

#: bump when the template below changes, so stale kernel files are rewritten
GENERATOR_VERSION = 7

#: LLVM fast-math flags: no ``nnan``/``ninf``, so NaN and Inf are still seen and propagated
FASTMATH = ("afn", "arcp", "contract", "nsz", "reassoc")

_DTYPES = {"f32": "np.float32", "f64": "np.float64"}
#: machine epsilon of each compute type (zero-variance test of linear scaling)
_EPS = {"f32": 1.1920928955078125e-07, "f64": 2.220446049250313e-16}


def _cast_float_literals(expr: str, ctype: str) -> str:
    """Wrap float literals of ``expr`` as ``ctype(lit)`` so float32 code stays float32."""
    if ctype == "np.float64":
        return expr
    out = []
    toks = tokenize.generate_tokens(io.StringIO(expr).readline)
    try:
        for tok in toks:
            if tok.type == tokenize.NUMBER and any(ch in tok.string for ch in ".eE") and not (
                tok.string.lower().startswith("0x") or tok.string.lower().endswith("j")
            ):
                out.append((tokenize.NAME, f"{ctype}({tok.string})"))
            else:
                out.append((tok.type, tok.string))
        return tokenize.untokenize(out).strip()
    except (tokenize.TokenError, SyntaxError):
        return expr


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


def _eval_block(ops: Sequence[Operator], s: str) -> str:
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
    ]
    for i, op in enumerate(ops):
        code = FIRST_OP + i
        expr = _cast_float_literals(op.scalar, T)
        kw = "if" if i == 0 else "elif"
        body.append(f"    {kw} c == {code}:  # {_op_comment(op)}")
        if op.arity == 2:
            body += [
                f"        A = numba.carray(_ptr(addr[sp - 2]), m, {T})",
                f"        B = numba.carray(_ptr(addr[sp - 1]), m, {T})",
                "        for r in range(m):",
                "            a = A[r]",
                "            b = B[r]",
                f"            O[r] = {expr}",
            ]
        else:
            body += [
                f"        A = numba.carray(_ptr(addr[sp - 1]), m, {T})",
                "        for r in range(m):",
                "            a = A[r]",
                f"            O[r] = {expr}",
            ]
    body += [
        "    n_in = _ARITY[c]",
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
        for start in range(0, n_rows, block):
            m = min(block, n_rows - start)
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


def _jacobian(ops: Sequence[Operator], s: str) -> str:
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
    ]
    for i, op in enumerate(ops):
        code = FIRST_OP + i
        grads = [_cast_float_literals(g, T) for g in op.grad]
        bwd.append(f"    elif c == {code}:  # {_op_comment(op)}")
        bwd += [
            f"        Y = numba.carray(_ptr(naddr[j]), m, {T})",
            f"        A = numba.carray(_ptr(naddr[ch0[j]]), m, {T})",
        ]
        if op.arity == 2:
            bwd += [
                f"        B = numba.carray(_ptr(naddr[ch1[j]]), m, {T})",
                "        if hasc[ch0[j]]:",
                f"            GA = numba.carray(_ptr(gbase + ch0[j] * grow), m, {T})",
                "            for r in range(m):",
                "                a = A[r]",
                "                b = B[r]",
                "                y = Y[r]",
                f"                GA[r] = GY[r] * ({grads[0]})",
                "        if hasc[ch1[j]]:",
                f"            GB = numba.carray(_ptr(gbase + ch1[j] * grow), m, {T})",
                "            for r in range(m):",
                "                a = A[r]",
                "                b = B[r]",
                "                y = Y[r]",
                f"                GB[r] = GY[r] * ({grads[1]})",
            ]
        else:
            bwd += [
                f"        GA = numba.carray(_ptr(gbase + ch0[j] * grow), m, {T})",
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
    return head + "\n".join(_indent(bwd, 12)) + "\n"


def kernel_source(ops: Sequence[Operator] | None = None) -> str:
    """The text of the kernel module for ``ops`` (default: the current registry)."""
    ops = registry() if ops is None else tuple(ops)
    imports, user_hash = _user_imports(ops)
    arity = [0, 0] + [op.arity for op in ops]
    parts = [
        "# Generated by eurisko.evaluate._kernelgen from the operator registry. Do not edit:",
        "# the file is rewritten whenever the registry or the generator changes.",
        f"# registry fingerprint: {registry_fingerprint() if ops == registry() else 'custom'}",
        f"# generator version: {GENERATOR_VERSION}",
        f"# custom operator sources: {user_hash}",
        "import math  # noqa: F401  (operator code may use it)",
        "",
        "import numba",
        "import numpy as np",
        "from numba.core import cgutils, types",
        "from numba.core.registry import CPUDispatcher as _Dispatcher  # noqa: F401",
        "from numba.extending import intrinsic",
        "",
        imports,
        "",
        "_OPTS = dict(cache=True, error_model='numpy', nogil=True,",
        "             fastmath={" + ", ".join(repr(f) for f in FASTMATH) + "})",
        f"_ARITY = np.array({arity!r}, dtype=np.int64)",
        f"N_CODES = {len(arity)}",
        f"OPERATORS = {tuple(op.name for op in ops)!r}",
        _COMMON,
    ]
    for s in ("f32", "f64"):
        parts += ["", _eval_block(ops, s), _predict(s), _losses(s), _jacobian(ops, s)]
    return "\n".join(parts)
