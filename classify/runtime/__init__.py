"""A fitted default-type pipeline as plain arrays, predicting without scikit-learn.

Importing scikit-learn takes most of a second, and a model that only labels text needs
none of it: its pipeline is a normaliser, feature blocks that are functions of a few
fitted arrays, and one linear model per label. At save time, :func:`export_runtime`
writes those arrays (the normaliser's switches, each block's vocabulary and idf, the
coefficients and intercepts) to ``runtime.npz``, which :class:`Runtime` reads back with
``allow_pickle=False``. The transforms are the same functions the scikit-learn steps
call (the kernels of this package: :mod:`~classify.normalise`,
:mod:`~classify.runtime.char`, :mod:`~classify.runtime.structure`,
:mod:`~classify.runtime.clusters`), so there is one implementation, and the
probabilities are the pipeline's to float rounding.

:meth:`Runtime.predict_proba` goes through a compiled kernel when the package was built with
it (:mod:`classify.runtime.fast`, ``_kernel.pyx``): normalisation, the three blocks and the
scores (and, for a pooled model, its sentences' scores) in one pass per text, with a memo of
words, never building a matrix. It does the
NumPy kernels' arithmetic in their order, so the probabilities are the same; the NumPy
kernels stay the reference (:meth:`Runtime.reference_proba`) and serve :meth:`Runtime.transform`
(explanations, reports) and any runtime the kernel does not cover.

Only pipelines made of those parts are exported: normalise, a feature union of
character n-grams, structure and clusters (any of them, in any order, the others
dropped), and a one-vs-rest logistic regression; for any other,
:func:`export_runtime` returns ``None`` and the model loads through skops.

Nothing here imports scikit-learn or pandas.
"""

import io
import json
import math

import numpy as np
import scipy.sparse as sp

from classify.errors import ClassifyError
from classify.normalise import STEPS, normaliser
from classify.pooling import check_pooling, pool, pooled_proba
from classify.runtime.char import CharKernel
from classify.runtime.clusters import check_table, cluster_matrix
from classify.runtime.structure import FEATURES, LEXICONS, structure_matrix

RUNTIME_FILE = "runtime.npz"
# Bumped when the arrays' meaning changes: a file of another version is not used (the model loads through skops).
RUNTIME_VERSION = 1


class OtherRuntimeVersion(ClassifyError):
    """A runtime file written by a classify whose runtime arrays mean something else."""


def export_runtime(pipeline):
    """The bytes of ``runtime.npz`` for a fitted pipeline, or ``None`` if it is not of an exportable kind.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        As :func:`classify.pipeline.make_pipeline` builds it, fitted.

    Returns
    -------
    bytes or None
    """
    # Called at save time, when the pipeline (and so scikit-learn) is loaded already.
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    from classify.features.char import CharTfidf
    from classify.features.clusters import ClusterWords
    from classify.features.structure import StructureFeatures
    from classify.normaliser import ArabicNormaliser

    kinds = {CharTfidf: "char", StructureFeatures: "structure", ClusterWords: "clusters"}
    if type(pipeline) is not Pipeline:
        return None
    steps = dict(pipeline.steps)
    normaliser, union, clf = steps.get("normalise"), steps.get("features"), steps.get("clf")
    if (list(steps) != ["normalise", "features", "clf"] or type(normaliser) is not ArabicNormaliser
            or type(union) is not FeatureUnion or union.transformer_weights is not None
            or type(clf) is not OneVsRestClassifier or not hasattr(clf, "estimators_")
            or not all(type(e) is LogisticRegression and e.coef_.shape[0] == 1 for e in clf.estimators_)):
        return None
    blocks = [(name, block) for name, block in union.transformer_list if block not in ("drop", None)]
    if not blocks or any(type(block) not in kinds for _, block in blocks):
        return None
    # A fitted classifier after blocks of these kinds: the blocks are fitted too.
    arrays, spec = {}, {"version": RUNTIME_VERSION, "normalise": normaliser.switches(), "blocks": []}
    for i, (_, block) in enumerate(blocks):
        kind = kinds[type(block)]
        if kind == "char":
            if block.analyzer not in ("char", "char_wb") or np.dtype(block.dtype) not in (np.float32, np.float64):
                return None
            params = {"analyzer": block.analyzer, "ngram_range": list(block.ngram_range),
                      "sublinear_tf": bool(block.sublinear_tf), "norm": block.norm, "lowercase": bool(block.lowercase),
                      "dtype": np.dtype(block.dtype).name}
            arrays |= {f"{i}_alphabet": block.alphabet_, f"{i}_keys": block.keys_}
            if block.use_idf:
                arrays[f"{i}_idf"] = block.idf_
        elif kind == "structure":
            params = {"weight": float(block.weight), "features": list(FEATURES), "lexicon": block.lexicon}
        else:
            params = {"bigrams": bool(block.bigrams), "weight": float(block.weight), "k": int(block.k_),
                      "table_sha256": block.table_sha256_}
            arrays |= {f"{i}_grams": block.grams_, f"{i}_columns": block.columns_, f"{i}_idf": block.idf_}
        spec["blocks"].append({"kind": kind, **params})
    # (features x labels), each feature's row contiguous: the product with the features reads it whole.
    arrays["coef"] = np.ascontiguousarray(np.vstack([e.coef_ for e in clf.estimators_]).T, dtype=np.float64)
    arrays["intercept"] = np.array([float(e.intercept_[0]) for e in clf.estimators_])
    arrays["spec"] = np.array(json.dumps(spec))
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


class Runtime:
    """A model's pipeline read from ``runtime.npz``: normalise, feature blocks, linear scores.

    Parameters
    ----------
    data : bytes
        The content of ``runtime.npz`` (:func:`export_runtime`).
    where : str
        Names the file in messages.

    Raises
    ------
    ClassifyError
        If the file is not an archive of the expected arrays, each of the expected type
        and shape (one line naming the file).
    """

    def __init__(self, data, where=RUNTIME_FILE):
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            spec = json.loads(str(arrays.pop("spec")))
            self._build(spec, arrays)
        except OtherRuntimeVersion:
            raise
        except Exception as exc:  # a damaged archive or a wrong array raises many types
            raise ClassifyError(f"{where}: not a classify runtime file ({type(exc).__name__}: {exc})") from None

    def _build(self, spec, arrays):
        if spec.get("version") != RUNTIME_VERSION:
            raise OtherRuntimeVersion(f"runtime version {spec.get('version')!r}, this classify reads {RUNTIME_VERSION}")
        switches = spec["normalise"]
        if set(switches) != {name for name, _ in STEPS} or not all(isinstance(v, bool) for v in switches.values()):
            raise ValueError("bad normaliser switches")
        self.switches, self.normalise = switches, normaliser(**switches)
        # parts: each block's kind, arrays and first column, for the compiled kernel (classify.runtime.fast)
        self.blocks, self.parts, width = [], [], 0
        for i, block in enumerate(spec["blocks"]):
            kind = block["kind"]
            if kind == "char":
                alphabet, keys = _array(arrays, f"{i}_alphabet", np.uint32), _array(arrays, f"{i}_keys", np.uint64)
                idf = _array(arrays, f"{i}_idf", block["dtype"], len(keys)) if f"{i}_idf" in arrays else None
                if block["analyzer"] not in ("char", "char_wb") or block["norm"] not in ("l1", "l2", None):
                    raise ValueError("bad character block parameters")
                kernel = CharKernel(alphabet, keys, idf, block["analyzer"], tuple(block["ngram_range"]),
                                    bool(block["sublinear_tf"]), block["norm"], bool(block["lowercase"]),
                                    block["dtype"])
                self.blocks.append(("char", kernel.transform))
                self.parts.append(("char", kernel, width))
                width += len(keys)
            elif kind == "structure":
                if block["features"] != list(FEATURES):
                    raise ValueError("the structure features differ from this classify's")
                # Runtime files written before the lexicon existed read with the codebook's lists.
                lexicon_name = block.get("lexicon", "codebook")
                if lexicon_name not in LEXICONS:
                    raise ValueError(f"unknown structure lexicon {lexicon_name!r}")
                self.blocks.append(("structure", lambda texts, w=float(block["weight"]), name=lexicon_name:
                                    structure_matrix(texts, w, name)))
                self.parts.append(("structure", {"weight": float(block["weight"]), "lexicon": lexicon_name}, width))
                width += len(FEATURES)
            elif kind == "clusters":
                table, k = check_table(block["table_sha256"])
                if k != block["k"]:
                    raise ValueError("the cluster count differs from the table's")
                columns = _array(arrays, f"{i}_columns", np.int64)
                grams, idf = _array(arrays, f"{i}_grams", np.int64, len(columns)), _array(arrays, f"{i}_idf",
                                                                                           np.float32, len(columns))
                if len(columns) and not (columns.min() >= 0 and columns.max() < len(columns)):
                    raise ValueError("cluster columns out of range")

                def clusters(texts, table=table, k=k, grams=grams, columns=columns, idf=idf, block=block):
                    return cluster_matrix(texts, table, k, grams, columns, idf, block["bigrams"], block["weight"])

                self.blocks.append(("clusters", clusters))
                self.parts.append(("clusters", {"table": table, "k": k, "grams": grams, "columns": columns, "idf": idf,
                                                "bigrams": bool(block["bigrams"]), "weight": float(block["weight"])},
                                   width))
                width += len(columns)
            else:
                raise ValueError(f"unknown block kind {kind!r}")
        self.coef = _array(arrays, "coef", np.float64)
        if self.coef.ndim != 2 or self.coef.shape[0] != width:
            raise ValueError(f"coefficients of shape {self.coef.shape}, expected ({width}, labels)")
        self.intercept = _array(arrays, "intercept", np.float64, self.coef.shape[1])
        # The compiled kernel (classify.runtime.fast), built now (tens of ms: part of loading, not of
        # the first prediction); None when the extension or this runtime's kind does not allow one.
        from classify.runtime.fast import kernel

        self._fast = kernel(self)

    def transform(self, texts):
        """The feature matrix (CSR) of raw texts, as the pipeline's ``features`` step gives it."""
        return self._features(list(map(self.normalise, texts)))

    def _features(self, folded):
        return sp.hstack([block(folded) for _, block in self.blocks], format="csr")

    def predict_proba(self, texts, pooling="none"):
        """Each label's probability for each raw text, as the pipeline's ``predict_proba``.

        Parameters
        ----------
        texts : list of str
        pooling : {"none", "sentence"}
            With ``"sentence"``, pooled over each text's sentences as
            :func:`classify.pooling.pooled_proba` pools the pipeline's.

        Returns
        -------
        ndarray of shape (len(texts), n_labels)
        """
        check_pooling(pooling)
        if self._fast is not None:
            return self._fast.predict_proba(texts, pooling)
        folded = list(map(self.normalise, texts))
        proba = self.classify(self._features(folded))
        return proba if pooling == "none" else pool(proba, folded, self.predict_proba)

    def reference_proba(self, texts, pooling="none"):
        """:meth:`predict_proba` through the NumPy kernels (the reference the compiled kernel is held to)."""
        return pooled_proba(lambda t: self.classify(self.transform(t)), texts, self.normalise, pooling)

    def classify(self, X):
        """Each label's probability for a feature matrix from :meth:`transform`."""
        scores = X @ self.coef + self.intercept
        return np.array([_expit(v) for v in scores.ravel().tolist()]).reshape(scores.shape)


def _expit(v):
    # The C library's exp, as scipy.special.expit (LogisticRegression.predict_proba) uses it:
    # NumPy's vectorised exp can differ in the last bit, and then so would the probabilities.
    try:
        return 1.0 / (1.0 + math.exp(-v))
    except OverflowError:  # exp(-v) past the largest float: C's exp gives inf, expit 0
        return 0.0


def _array(arrays, name, dtype, length=None):
    """``arrays[name]``, refused unless it has this dtype (and length)."""
    a = arrays[name]
    if a.dtype != np.dtype(dtype) or (length is not None and a.shape != (length,)):
        raise ValueError(f"array {name!r} is {a.dtype}{list(a.shape)}, expected {np.dtype(dtype)}"
                         + (f"[{length}]" if length is not None else ""))
    return a
