import json, sys, numpy as np
rows = [json.loads(l) for l in open(sys.argv[1])]
def pick(front, n, yv, rule, k=1.0):
    nl = np.maximum(np.array([r["loss"] for r in front]) / yv, 1e-14)
    c = np.array([r["c"] for r in front], float)
    if rule == "cur":
        ok = nl <= 1.5 * nl.min(); bi, bs = int(np.argmax(ok)), -np.inf
        for i in range(len(nl)):
            if not ok[i]: continue
            s = 0 if i == 0 else -(np.log(nl[i]) - np.log(nl[i-1])) / max(c[i]-c[i-1], 1)
            if s > bs + 1e-12: bi, bs = i, s
        return bi
    if rule == "bic":
        return int(np.argmin(n*np.log(nl) + k*c*np.log(n)))
    if rule == "aic":
        return int(np.argmin(n*np.log(nl) + k*2*c))
for rule, k in [("cur",1),("bic",0.5),("bic",1),("bic",1.5),("bic",2),("aic",1)]:
    sizes, ok, out = [], 0, []
    for r in rows:
        i = pick(r["front"], r["n"], r["y_var"], rule, k)
        f = r["front"][i]; sizes.append(f["c"]); ok += f["test_r2"] > 0.999
        out.append(f"{r['name']}:{f['c']}:{f['test_r2']:.4f}")
    print(rule, k, "median", np.median(sizes), "r2>0.999", ok, "/", len(rows))
    if len(sys.argv) > 2: print("   ", " ".join(out))
