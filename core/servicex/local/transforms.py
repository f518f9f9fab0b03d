"""Run ServiceX transforms on local files, the way the ServiceX transformers do.

A transform request names a code generator (``codegen``), a query text
(``selection``) and an output format.  :func:`prepare` plays the code
generator: it checks the query and returns a *runner*; :func:`transform_file`
plays one transformer pod: it runs the runner on one input file and writes one
output file.  Errors carry the transformer's own wording::

    Failed to transform input file /data/nope.root: [Errno 2] No such file ...

Code generators
---------------
``uproot-raw`` (``query.UprootRaw``)
    The selection is a JSON list of query dictionaries, each handed to
    ``TTree.arrays()``: ``treename`` (a string, a list, or a dict
    ``{input tree: output tree}``), ``filter_name``, ``filter_typename``,
    ``expressions``, ``cut``, ``aliases``, ``fail_on_missing_trees``,
    ``use_standard_awkward_axis``; or ``{"copy_histograms": pattern(s)}``
    to copy ROOT objects (ROOT output only).  Expressions may call many
    Awkward functions (``num``, ``any``, ``sum``, ``max`` ...) whose
    ``axis`` defaults to 1 (``flatten``: 2), i.e. they work inside each
    event, as in ServiceX.  Two deliberate, stricter-than-ServiceX checks
    turn silent empty outputs into errors that name the culprit: an exact
    branch name in ``filter_name`` that matches no branch, and a query none
    of whose trees is in the file (unless ``fail_on_missing_trees`` is
    explicitly ``false``, which keeps ServiceX's "skip missing trees").
``uproot`` (``query.FuncADL_Uproot``)
    The selection is qastle text; ``func_adl_uproot.generate_python_source``
    turns it into a ``run_query`` function, which is run on the file.
    Output tree ``servicex`` (one branch per field; ``branch`` for a bare
    array).
``atlasr25``
    Accepted, but every file fails with :data:`ATLAS_MESSAGE`.

Output formats: ``root-file`` (one TTree per output tree, jagged arrays with
their counter branches), ``root-rntuple``, and ``parquet`` (uproot-raw adds a
``treename`` column, as ServiceX does).  Output object names follow the
ServiceX transformer: the input path with ``/`` replaced by ``:``, plus
``.parquet`` for parquet output (:func:`object_name`).

>>> run = prepare("uproot-raw", '[{"treename": "Events", "filter_name": ["MET_pt"]}]')
>>> transform_file(run, "sample.root", Path("out.root"), "root-file")  # doctest: +SKIP
(2000, 9734)
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = [
    "ATLAS_MESSAGE", "CODEGENS", "RESULT_FORMATS", "CodegenError", "TransformError",
    "object_name", "prepare", "transform_file",
]

#: Code generator name -> transformer image name shown in ``GET /servicex``.
CODEGENS = {
    "uproot-raw": "sslhep/servicex_raw_uproot_transformer:vibeplot-local",
    "uproot": "sslhep/servicex_func_adl_uproot_transformer:vibeplot-local",
    "atlasr25": "sslhep/servicex_func_adl_xaod_transformer:r25-not-available-locally",
}
RESULT_FORMATS = ("root-file", "parquet", "root-rntuple")
ATLAS_MESSAGE = (
    "xAOD (atlasr25) transforms need the ATLAS AnalysisBase image, which the local "
    "backend does not have; use a real ServiceX endpoint"
)
MAX_PATH_LEN = 255  # as the ServiceX transformer sidecar

# One item produced by a runner: ("tree", name, awkward array) or ("obj", name, ROOT object).
Item = tuple[str, str, Any]
Runner = Callable[[str], Iterator[Item]]


class CodegenError(ValueError):
    """The query cannot be turned into code (reported when the request is submitted)."""


class TransformError(RuntimeError):
    """Transforming one input file failed; the message is the transformer's."""


def object_name(file_path: str, result_format: str) -> str:
    """The object-store name of the output for ``file_path``, as ServiceX makes it.

    >>> object_name("/data/run1/sample.root", "parquet")
    ':data:run1:sample.root.parquet'
    >>> object_name("/data/run1/sample.root", "root-file")
    ':data:run1:sample.root'
    """
    name = file_path.replace("/", ":") + (".parquet" if result_format == "parquet" else "")
    if len(name) > MAX_PATH_LEN:
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()
        name = "_" + digest + name[-(MAX_PATH_LEN - len(digest) - 1):]
    return name


def prepare(codegen: str, selection: str) -> Runner:
    """Check ``selection`` for ``codegen`` and return a runner ``file_path -> items``.

    Raises :class:`CodegenError` for an unknown code generator or a malformed query.

    >>> try:
    ...     prepare("uproot-raw", "[]")
    ... except CodegenError as error:
    ...     print(error)
    Failed to generate translation code: the uproot-raw query is an empty list
    """
    try:
        if codegen == "uproot-raw":
            run = functools.partial(_run_uproot_raw, _parse_uproot_raw(selection))
            run.treename_column = True  # type: ignore[attr-defined]  # parquet gets a treename column
            return run
        if codegen == "uproot":
            return functools.partial(_run_funcadl, _compile_funcadl(selection))
        if codegen == "atlasr25":
            return _run_atlas
    except CodegenError:
        raise
    except Exception as error:  # qastle/lark/json errors
        raise CodegenError(f"Failed to generate translation code: {type(error).__name__}: {error}") from error
    raise CodegenError(f"Invalid Codegen Image Passed in Request: {codegen}")


def transform_file(run: Runner, file_path: str, output_path: Path, result_format: str) -> tuple[int, int]:
    """Run ``run`` on ``file_path``, write ``output_path``; return (events, bytes).

    Any failure becomes a :class:`TransformError` worded as the ServiceX
    transformer words it (``Failed to transform input file PATH: ERROR``).
    """
    try:
        if result_format == "parquet":
            events = _write_parquet(run(file_path), output_path, getattr(run, "treename_column", False))
        elif result_format in ("root-file", "root-rntuple"):
            events = _write_root(run(file_path), output_path, rntuple=result_format == "root-rntuple")
        else:
            raise ValueError(f"unsupported result format {result_format!r}")
    except Exception as error:
        output_path.unlink(missing_ok=True)
        raise TransformError(f"Failed to transform input file {file_path}: {error}") from error
    return events, output_path.stat().st_size


# --------------------------------------------------------------------------- writers

def _root_branches(array) -> dict:
    import awkward as ak

    if array.fields:
        return {field: array[field] for field in array.fields}
    return {"branch": ak.Array(array)}


def _write_root(items: Iterator[Item], output_path: Path, rntuple: bool) -> int:
    import awkward as ak
    import uproot

    events = 0
    with uproot.recreate(output_path) as writer:
        for kind, name, value in items:
            if kind == "obj":
                writer[name] = value
                continue
            events += len(value)
            if rntuple:
                if name in writer:
                    writer[name].extend(value)
                else:
                    writer.mkrntuple(name, value)
            elif name in writer:
                writer[name].extend(_root_branches(value))
            else:
                writer.mktree(name, _root_branches(ak.Array(value)))
    return events


def _write_parquet(items: Iterator[Item], output_path: Path, treename_column: bool) -> int:
    import awkward as ak
    import pyarrow as pa
    import pyarrow.parquet as pq

    events, writer = 0, None
    try:
        for kind, name, value in items:
            if kind == "obj":
                raise RuntimeError("Cannot store histograms in a non-ROOT return file format")
            if treename_column:
                value = ak.with_field(value, name, "treename")
            table = ak.to_arrow_table(value)
            events += len(value)
            if writer is None:
                writer = pq.ParquetWriter(output_path, table.schema)
            try:
                writer.write_table(table)
            except ValueError as error:
                raise RuntimeError(
                    "Unable to translate output tables to parquet (probably different "
                    f"queries give different branches?)\n{error}"
                ) from error
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(pa.table({}), output_path)
    return events


# --------------------------------------------------------------------------- uproot-raw

_KNOWN_KEYS = {
    "treename", "expressions", "cut", "filter_name", "filter_typename", "aliases",
    "fail_on_missing_trees", "use_standard_awkward_axis", "copy_histograms",
}
# Awkward functions offered to expressions; those in _AXIS1 default to axis=1.
_AK_FUNCTIONS = (
    "concatenate where flatten num count count_nonzero sum nansum prod nanprod any all "
    "min nanmin max nanmax argmin nanargmin argmax nanargmax moment mean nanmean var "
    "nanvar std nanstd softmax sort argsort mask is_none drop_none pad_none fill_none "
    "firsts singletons broadcast_arrays broadcast_fields cartesian argcartesian "
    "combinations argcombinations isclose almost_equal"
).split()
_AXIS1 = set(
    "concatenate count count_nonzero sum nansum prod nanprod any all min nanmin max nanmax "
    "argmin nanargmin argmax nanargmax moment mean nanmean var nanvar std nanstd softmax".split()
)


def _parse_uproot_raw(selection: str) -> list[dict]:
    if not selection:
        raise CodegenError("Failed to generate translation code: Requested codegen for an empty string.")
    try:
        queries = json.loads(selection)
    except json.JSONDecodeError as error:
        raise CodegenError(f"Failed to generate translation code: the uproot-raw query is not JSON: {error}")
    if not isinstance(queries, list):
        raise CodegenError("Failed to generate translation code: Provided query is not a list")
    if not queries:
        raise CodegenError("Failed to generate translation code: the uproot-raw query is an empty list")
    for query in queries:
        if not isinstance(query, dict):
            raise CodegenError(f"Failed to generate translation code: query {query!r} is not a dictionary")
        if not query.get("treename") and not query.get("copy_histograms"):
            raise CodegenError(
                "Failed to generate translation code: At least one tree or histogram must be "
                f"specified for query {query}"
            )
        for key in ("expressions", "cut", "filter_name", "filter_typename"):
            value = query.get(key)
            if value is not None and not isinstance(value, (str, list)):
                raise CodegenError(f"Failed to generate translation code: {key} must be a string or a list, not {value!r}")
    return queries


def _language(standard_axis: bool):
    import awkward as ak
    import uproot

    def with_axis(function, axis):
        @functools.wraps(function)
        def call(*args, **kwargs):
            kwargs.setdefault("axis", axis)
            return function(*args, **kwargs)
        return call

    functions = dict(uproot.language.python.PythonLanguage.default_functions)
    for name in _AK_FUNCTIONS:
        function = getattr(ak, name)
        if not standard_axis and name in _AXIS1:
            function = with_axis(function, 1)
        elif not standard_axis and name == "flatten":
            function = with_axis(function, 2)
        functions[name] = function
    return uproot.language.python.PythonLanguage(functions=functions)


def _is_exact_name(pattern: str) -> bool:
    return not (pattern.startswith("/") or any(c in pattern for c in "*?["))


def _check_filter_name(tree, filter_name, file_path) -> None:
    import uproot

    names = [filter_name] if isinstance(filter_name, str) else list(filter_name or [])
    known = tree.keys(recursive=True, full_paths=True)
    known_set = set(known) | set(tree.keys(recursive=True, full_paths=False))
    for name in names:
        if isinstance(name, str) and _is_exact_name(name) and name not in known_set:
            raise uproot.KeyInFileError(
                name, because="no branch has this name (filter_name)", keys=known,
                file_path=file_path, object_path=tree.object_path,
            )


def _tree_map(treename) -> dict[str, str]:
    if isinstance(treename, str):
        return {treename: treename}
    if isinstance(treename, list):
        return {name: name for name in treename}
    return dict(treename)


def _run_uproot_raw(queries: list[dict], file_path: str) -> Iterator[Item]:
    import uproot

    with uproot.open({file_path: None}) as root_file:
        for query in queries:
            if not query.get("treename"):
                for key in root_file.keys(filter_name=query["copy_histograms"], cycle=False):
                    yield "obj", key, root_file[key]
                continue
            args = {key: query.get(key) for key in ("expressions", "cut", "filter_name", "filter_typename", "aliases")}
            language = _language(bool(query.get("use_standard_awkward_axis")))
            trees = _tree_map(query["treename"])
            found = 0
            for tree_name, out_name in trees.items():
                try:
                    tree = root_file[tree_name]
                except uproot.KeyInFileError:
                    if query.get("fail_on_missing_trees"):
                        raise
                    continue
                found += 1
                _check_filter_name(tree, args["filter_name"], file_path)
                yield "tree", out_name, tree.arrays(language=language, **args)
            if not found and query.get("fail_on_missing_trees") is not False:
                raise uproot.KeyInFileError(
                    ", ".join(trees), because="none of the requested trees is in the file",
                    keys=root_file.keys(cycle=False), file_path=file_path,
                )


# --------------------------------------------------------------------------- FuncADL / uproot

def _compile_funcadl(selection: str) -> Callable:
    import func_adl_uproot

    if not selection:
        raise CodegenError("Failed to generate translation code: Requested codegen for an empty string.")
    source = func_adl_uproot.generate_python_source(selection)
    namespace: dict = {}
    exec(compile(source, "<func_adl_uproot generated_transformer>", "exec"), namespace)
    return namespace["run_query"]


def _run_funcadl(run_query: Callable, file_path: str) -> Iterator[Item]:
    import awkward as ak

    output = run_query(input_filenames=[file_path])
    if isinstance(output, dict):
        for name, array in output.items():
            yield "tree", name, ak.Array(array)
    else:
        yield "tree", "servicex", ak.Array(output)


def _run_atlas(file_path: str) -> Iterator[Item]:
    raise RuntimeError(ATLAS_MESSAGE)
    yield  # pragma: no cover  (a generator, like the other runners)
