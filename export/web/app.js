"use strict";
// The kerascnn web page: loads a kerascnn ONNX export and its metadata (the
// sidecar `<model>.json` the exporter writes beside it), classifies what the
// user draws or picks, and draws every block's convolution -> rectified
// feature map -> pooled map. The page publishes its state on <body data-*>
// (ready, top-class, probabilities, maps-drawn, inference-ms) for tests.
//
// URL parameters: ?model=<url of the .onnx> (default model/model.opset17.onnx).

const MAP_TILE = 4; // pixels of gap between channel tiles

function el(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, value));
  if (text) node.textContent = text;
  return node;
}

// Raw 0-255 pixels (H x W x C, channels last) of what a canvas shows.
function pixelsOf(canvas, channels) {
  const { width, height } = canvas;
  const rgba = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const out = new Float32Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    if (channels === 1) {
      // Gray images have r = g = b; colour is seen through ITU-R BT.601 luma,
      // as kerascnn converts it.
      out[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    } else {
      out.set([r, g, b], 3 * i);
    }
  }
  return out;
}

// One canvas for a (1, h, w, c) map: a tile a channel, each scaled to its own range.
function drawMap(canvas, tensor) {
  const [, h, w, c] = tensor.dims;
  const columns = Math.min(c, 8);
  const rows = Math.ceil(c / columns);
  canvas.width = columns * (w + MAP_TILE) - MAP_TILE;
  canvas.height = rows * (h + MAP_TILE) - MAP_TILE;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  const data = tensor.data;
  for (let k = 0; k < c; k++) {
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < h * w; i++) {
      low = Math.min(low, data[i * c + k]);
      high = Math.max(high, data[i * c + k]);
    }
    const tile = context.createImageData(w, h);
    const span = high - low || 1;
    for (let i = 0; i < h * w; i++) {
      const v = Math.round((255 * (data[i * c + k] - low)) / span);
      tile.data.set([v, v, v, 255], 4 * i);
    }
    context.putImageData(tile, (k % columns) * (w + MAP_TILE), Math.floor(k / columns) * (h + MAP_TILE));
  }
  // Small maps are hard to see: scale them up, pixels kept sharp.
  canvas.style.width = `${canvas.width * Math.max(1, Math.floor(360 / canvas.width))}px`;
  // Drawn: the tiles show something (not one flat colour).
  const shown = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let varies = false;
  for (let i = 4; i < shown.length && !varies; i += 4) varies = shown[i] !== shown[0];
  canvas.dataset.drawn = varies ? "yes" : "no";
  return varies;
}

async function main() {
  const params = new URLSearchParams(location.search);
  const modelUrl = params.get("model") || "model/model.opset17.onnx";
  const status = document.getElementById("status");
  ort.env.wasm.wasmPaths = new URL("node_modules/onnxruntime-web/dist/", location.href).href;
  ort.env.wasm.numThreads = 1; // threads would need cross-origin isolation headers
  let session;
  let metadata;
  try {
    const response = await fetch(`${modelUrl}.json`);
    if (!response.ok) throw new Error(`${modelUrl}.json: HTTP ${response.status}`);
    metadata = await response.json();
    session = await ort.InferenceSession.create(modelUrl, { executionProviders: ["wasm"] });
  } catch (error) {
    status.textContent = `Could not load ${modelUrl}: ${error.message || error}`;
    document.body.dataset.ready = "error";
    return;
  }
  const [height, width, channels] = metadata.preprocessing.input_shape;
  const names = metadata.class_names;
  const steps = metadata.feature_maps || [];
  document.getElementById("model-name").textContent = metadata.source;
  const seen = document.getElementById("seen");
  seen.width = width;
  seen.height = height;

  // The steps' canvases, in order: each convolution, its rectified map and
  // pooled map, under the block the model declares it in.
  const mapCanvases = {};
  const stepsNode = document.getElementById("steps");
  document.getElementById("no-maps").hidden = steps.length > 0;
  steps.forEach((step, index) => {
    const row = el("div", { class: "step" });
    row.append(el("strong", {}, step.block ? `Block ${step.block}` : `Step ${index + 1}`));
    for (const [title, layer] of [["convolution", step.conv], ["rectified feature map (ReLU)", step.rectified], ["pooled map", step.pooled]]) {
      if (!layer) continue;
      const stage = el("div", { class: "stage" });
      const canvas = el("canvas", { "data-layer": layer, "aria-label": `${title}: ${layer}` });
      stage.append(el("h3", {}, `${title} (${layer})`), canvas);
      row.append(stage);
      mapCanvases[layer] = canvas;
    }
    stepsNode.append(row);
  });

  let busy = false;
  let pending = false;
  async function classify() {
    if (busy) { pending = true; return; }
    busy = true;
    const pixels = pixelsOf(seen, channels);
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", pixels, [1, height, width, channels]) };
    const start = performance.now();
    const outputs = await session.run(feeds);
    const milliseconds = performance.now() - start;
    const probabilities = Array.from(outputs.predictions.data);
    const order = probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
    const list = document.getElementById("top");
    list.replaceChildren(...order.map(([p, i]) => {
      const item = el("li", {}, `${names[i]}: ${(100 * p).toFixed(2)}%`);
      item.append(el("span", { class: "bar", style: `width: ${Math.round(200 * p)}px` }));
      return item;
    }));
    document.getElementById("timing").textContent =
      `Inference: ${milliseconds.toFixed(2)} ms (ONNX Runtime Web, WebAssembly, one thread).`;
    let drawn = 0;
    for (const [layer, canvas] of Object.entries(mapCanvases)) {
      if (outputs[layer] && drawMap(canvas, outputs[layer])) drawn++;
    }
    Object.assign(document.body.dataset, {
      topClass: names[order[0][1]],
      probabilities: JSON.stringify(probabilities),
      mapsDrawn: `${drawn}/${Object.keys(mapCanvases).length}`,
      inferenceMs: milliseconds.toFixed(3),
      runs: String(Number(document.body.dataset.runs || 0) + 1),
    });
    busy = false;
    if (pending) { pending = false; classify(); }
  }

  // Drawing, for 28x28 grayscale models: white strokes on black, like MNIST.
  if (height === 28 && width === 28 && channels === 1) {
    const pad = document.getElementById("pad");
    document.getElementById("draw").hidden = false;
    const context = pad.getContext("2d");
    const clear = () => {
      context.fillStyle = "#000";
      context.fillRect(0, 0, pad.width, pad.height);
      seen.getContext("2d").drawImage(pad, 0, 0, width, height);
    };
    clear();
    let last = null;
    const point = (event) => {
      const box = pad.getBoundingClientRect();
      return [(event.clientX - box.left) * (pad.width / box.width), (event.clientY - box.top) * (pad.height / box.height)];
    };
    pad.addEventListener("pointerdown", (event) => { last = point(event); pad.setPointerCapture?.(event.pointerId); });
    pad.addEventListener("pointermove", (event) => {
      if (!last) return;
      const next = point(event);
      Object.assign(context, { strokeStyle: "#fff", lineWidth: 22, lineCap: "round", lineJoin: "round" });
      context.beginPath();
      context.moveTo(...last);
      context.lineTo(...next);
      context.stroke();
      last = next;
      const small = seen.getContext("2d");
      small.imageSmoothingEnabled = true;
      small.imageSmoothingQuality = "high";
      small.drawImage(pad, 0, 0, width, height);
      classify();
    });
    const end = () => { last = null; };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointerleave", end);
    document.getElementById("clear").addEventListener("click", () => { clear(); classify(); });
  }

  // Any image, for any model: scaled to the model's input size.
  document.getElementById("picker").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const context = seen.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    classify();
  });

  status.textContent = `${metadata.source}: ${height}x${width}x${channels} input, ${names.length} classes. ` +
    (channels === 1 && height === 28 && width === 28 ? "Draw on the black square, or pick an image." : "Pick an image.");
  document.body.dataset.ready = "yes";
}

main();
