"""Run exported artifacts in their runtimes, written independently of kerascnn.export."""

import numpy as np


def litert_predict(path, images) -> np.ndarray:
    """Runs a .tflite with LiteRT, quantizing integer inputs and outputs."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, images.shape)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    values = images
    if source["dtype"] != np.float32:
        scale, zero = source["quantization"]
        info = np.iinfo(source["dtype"])
        values = np.clip(np.round(images / scale + zero), info.min, info.max)
    interpreter.set_tensor(index, values.astype(source["dtype"]))
    interpreter.invoke()
    out = interpreter.get_tensor(target["index"]).astype("float32")
    if target["dtype"] != np.float32:
        scale, zero = target["quantization"]
        out = (out - zero) * scale
    return out


def ort_predict(path, images) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


def saved_model_predict(path, images) -> np.ndarray:
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return serve(image=tf.constant(images))["predictions"].numpy()
