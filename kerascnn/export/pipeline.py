"""`export_model`: a Keras model to verified SavedModel, TFLite and ONNX files."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import keras

from kerascnn import atomic_files
from kerascnn.errors import UsageError
from kerascnn.export import graph, runtimes
from kerascnn.export.calibration import representative_images, synthesized_images
from kerascnn.export.metadata import LABELS_FILE, artifact_metadata, labels_text
from kerascnn.export.report import ArtifactReport, ExportReport, Progress

FORMATS = ("saved_model", "tflite", "onnx")
# Formats on request only: `micro` (microcontrollers, TFLite Micro).
EXTRA_FORMATS = ("micro",)
QUANTIZATIONS = ("float16", "dynamic", "int8", "uint8")
VERIFY_IMAGES = 256
MAP_CHECK_IMAGES = 32
REPORT_FILE = "report.json"


def _names(values, allowed, what) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v.strip() for v in values.split(",") if v.strip()]
    values = tuple(dict.fromkeys(values))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise UsageError(
            f"Unknown {what} {', '.join(map(repr, unknown))}; use any of {', '.join(allowed)}. "
            f"Received: {what}={values}"
        )
    return values


def _disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def export_model(
    model: keras.Model,
    out_dir: str | Path,
    formats=FORMATS,
    quantize=None,
    representative_data=None,
    verify: bool = True,
    *,
    opsets=(17,),
    allow_flex: bool = False,
    feature_maps: bool = False,
    source: str | None = None,
    tolerance: float = runtimes.FLOAT_TOLERANCE,
    min_agreement: float = runtimes.QUANTIZED_AGREEMENT,
    force: bool = False,
    progress: bool = True,
    samples: int = 500,
    data_config=None,
) -> ExportReport:
    """Exports a Keras model and checks every artifact against it.

    The folder is written atomically: everything goes to a temporary folder
    beside `out_dir`, which is renamed into place only when every artifact
    is written and verified. An existing `out_dir` is replaced only with
    `force=True`, and only if kerascnn wrote it (`atomic_files.check_output_directory`).

    Args:
        model: A Keras model with one image input (a kerascnn `ConvNet`, a
            preset, or any functional model); it need not have been called.
            Other models must compute in float32; a `ConvNet` trained in
            mixed precision is exported as the same model in float32.
        out_dir: The folder to create.
        formats: Any of "saved_model", "tflite", "onnx" (a list or a
            comma-separated string).
        quantize: Extra quantized variants: "float16", "dynamic" (TFLite),
            "int8" (TFLite with int8 input/output, and ONNX through ONNX
            Runtime), "uint8" (TFLite with uint8 input/output).
        representative_data: Raw images for int8 calibration and for the
            parity check: an array (N, H, W, C), a `.npy` file, a
            `tf.data.Dataset`, a kerascnn `ImageDataset`, or a data source
            (a folder, `tfds:NAME`) whose training images are taken
            (`representative_images`). Without it, the check uses random images.
        verify: Run every artifact in its runtime and compare with Keras.
        opsets: ONNX opsets, one `.onnx` file each.
        allow_flex: Let TFLite use Select TF (Flex) ops.
        feature_maps: Serve the feature maps too: a `feature_maps` signature in
            the SavedModel (the rectified maps), and extra ONNX outputs (every
            step's convolution, rectified and pooled map, checked against
            `kerascnn.inspection`), which the web page in `export/web/` draws.
        source: Recorded as the artifact's source (a preset or file name).
        tolerance: Largest difference allowed for float artifacts, absolute for
            outputs within [-1, 1] (probabilities), relative to the largest
            output otherwise.
        min_agreement: Smallest top-1 agreement allowed for quantized ones.
        force: Replace an existing `out_dir`.
        progress: Print the steps on standard error.
        samples: The most representative images to take.
        data_config: How to load a `representative_data` source (`DataConfig`).

    Returns:
        An `ExportReport`, also written to `out_dir/report.json`.

    Example:
    >>> report = export_model(create_model("lenet5.mnist"), "lenet5_export",
    ...                       quantize="int8", representative_data=images)
    >>> print(report)
    """
    formats = _names(formats, FORMATS + EXTRA_FORMATS, "formats")
    quantize = _names(quantize, QUANTIZATIONS, "quantize")
    if not formats:
        raise UsageError(f"Give at least one format of {', '.join(FORMATS)}. Received: formats=()")
    if "tflite" not in formats and set(quantize) - {"int8"}:
        raise UsageError(f"quantize={quantize} makes TFLite variants; add 'tflite' to formats.")
    out_dir = Path(out_dir)
    atomic_files.check_output_directory(out_dir, force=force)
    model = graph.in_float32(model)
    graph.check_exportable(model)
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    metadata = artifact_metadata(model, source=source)
    if feature_maps:
        from kerascnn.inspection.maps import steps as map_steps

        # The conv -> rectified -> pooled steps, in order, for apps that draw them.
        metadata["feature_maps"] = [
            {"block": s.block, "conv": s.conv, "rectified": s.rectified, "pooled": s.pooled}
            for s in map_steps(model)
        ]

    images = None
    if representative_data is not None:
        images = representative_images(
            representative_data, input_shape, limit=samples, data_config=data_config
        )
    if verify:
        check_images = images if images is not None else synthesized_images(input_shape, 64)
        check_images = check_images[:VERIFY_IMAGES]
        reference = keras.ops.convert_to_numpy(model(check_images, training=False))

    plan = []
    if "saved_model" in formats:
        plan.append(("saved_model", "float32"))
    if "tflite" in formats:
        plan.append(("tflite", "float32"))
        plan += [("tflite", q) for q in quantize]
    if "micro" in formats:
        plan.append(("micro", "int8"))
    if "onnx" in formats:
        for opset in opsets:
            plan.append(("onnx", f"opset{int(opset)}"))
            if "int8" in quantize:
                plan.append(("onnx", f"opset{int(opset)}-int8"))
    map_checks = sum(fmt == "onnx" and not _quantized(v) for fmt, v in plan) if feature_maps else 0
    steps = Progress(len(plan) * (2 if verify else 1) + verify * map_checks, enabled=progress)
    report = ExportReport(str(out_dir), metadata, int(model.count_params()))

    # TFLite flatbuffers by variant: `tflite` int8 and `micro` share one.
    flatbuffers = {}
    with atomic_files.directory(out_dir) as tmp, tempfile.TemporaryDirectory() as scratch:
        atomic_files.mark_output(tmp)
        for fmt, variant in plan:
            artifact = ArtifactReport(fmt, variant, _file_name(fmt, variant))
            path = tmp / artifact.path
            carried = _artifact_metadata(metadata, fmt, variant)
            start = time.perf_counter()
            with steps.step(f"{fmt} {variant}: write {artifact.path}"):
                _write(
                    model,
                    artifact,
                    tmp,
                    carried,
                    images,
                    Path(scratch),
                    allow_flex=allow_flex,
                    feature_maps=feature_maps,
                    flatbuffers=flatbuffers,
                )
            artifact.export_time_s = time.perf_counter() - start
            artifact.size_bytes = _disk_size(path)
            atomic_files.write_json(tmp / f"{artifact.path}.json", carried)
            if verify:
                start = time.perf_counter()
                with steps.step(f"{fmt} {variant}: run in its runtime, compare with Keras"):
                    outputs = runtimes.runner(path)(check_images)
                    artifact.parity = runtimes.parity(reference, outputs)
                    runtimes.check(
                        artifact.path,
                        artifact.parity,
                        quantized=_quantized(variant),
                        tolerance=tolerance,
                        agreement=min_agreement,
                    )
                if feature_maps and fmt == "onnx" and not _quantized(variant):
                    from kerascnn.export import onnx as onnx_export

                    with steps.step(f"{fmt} {variant}: feature maps against kerascnn.inspection"):
                        onnx_export.check_feature_maps(
                            path, model, check_images[:MAP_CHECK_IMAGES], tolerance
                        )
                artifact.verify_time_s = time.perf_counter() - start
                if fmt == "micro":
                    from kerascnn.export import micro

                    artifact.micro["parity"] = artifact.parity.to_dict()
                    micro.write_figures(path, artifact.micro)
            report.artifacts.append(artifact)
        # The class names beside the artifacts, one a line, for any app.
        atomic_files.write_text(tmp / LABELS_FILE, labels_text(metadata))
        atomic_files.write_json(tmp / REPORT_FILE, report.to_dict())
    return report


def _artifact_metadata(metadata: dict, fmt: str, variant: str) -> dict:
    """What one artifact carries inside and in its sidecar: the model's
    metadata, which artifact this is, and its input type."""
    carried = {**metadata, "artifact": {"format": fmt, "variant": variant}}
    if fmt == "tflite" and variant in ("int8", "uint8"):
        carried["input"] = {**metadata["input"], "dtype": variant, "quantized": True}
    return carried


def _quantized(variant: str) -> bool:
    return variant.endswith(("float16", "dynamic", "int8", "uint8"))


def _file_name(fmt: str, variant: str) -> str:
    if fmt in ("saved_model", "micro"):
        return fmt
    if fmt == "tflite":
        return "model.tflite" if variant == "float32" else f"model.{variant}.tflite"
    return f"model.{variant}.onnx"


def _write(
    model, artifact, tmp, metadata, samples, scratch, *, allow_flex, feature_maps, flatbuffers
):
    fmt, variant, path = artifact.format, artifact.variant, tmp / artifact.path
    if fmt == "saved_model":
        from kerascnn.export.saved_model import write_saved_model

        write_saved_model(model, path, metadata, feature_maps=feature_maps)
    elif fmt in ("tflite", "micro"):
        from kerascnn.export import tflite

        # One frozen graph, written with the first variant, serves them all.
        frozen = scratch / "tflite_frozen"
        if not frozen.exists():
            tflite.save_frozen(model, frozen)
        flex = allow_flex and fmt == "tflite"  # TFLite Micro has no Flex ops
        if (variant, flex) not in flatbuffers:
            flatbuffers[variant, flex] = tflite.convert(
                frozen, variant, name=model.name, representative=samples, allow_flex=flex
            )
        flatbuffer = flatbuffers[variant, flex]
        artifact.ops = tflite.op_names(flatbuffer)
        if fmt == "micro":
            from kerascnn.export import micro

            artifact.micro = micro.write_micro(flatbuffer, artifact.ops, path, metadata)
            return
        artifact.gpu_delegate_unsupported = tflite.gpu_unsupported(artifact.ops)
        path.write_bytes(tflite.with_associated_files(flatbuffer, metadata))
    else:
        from kerascnn.export import onnx as onnx_export

        opset = int(variant.split("-")[0].removeprefix("opset"))
        if variant.endswith("-int8"):
            proto = onnx_export.quantize_int8(tmp / _file_name("onnx", f"opset{opset}"), samples)
        else:
            proto = onnx_export.convert(model, opset=opset, feature_maps=feature_maps)
        onnx_export.set_metadata(proto, metadata)
        path.write_bytes(proto.SerializeToString())
        artifact.ops = sorted({node.op_type for node in proto.graph.node})
