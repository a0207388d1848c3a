// The classification pipeline, the same steps as the trainer's `predict`: image bytes -> header
// checks -> decode (upright, alpha kept) -> shared resizeToModel -> shared pixelsToTensor -> forward
// -> ranked predictions. Pre-processed pixel uploads join at pixelsToTensor. A PNG body is decoded
// while it arrives.

import { ImageHeaderError, readImageHeader, sniffImageFormat, type ImageHeader } from "../shared/image-header.ts";
import { defaultViews, forwardViews, rankPredictions, resizeToModel, type Prediction } from "../shared/index.ts";
import { decodeImage, decodePngUpload, ImageDecodeError } from "./decode.ts";
import { ApiError } from "./errors.ts";
import { checkPixels, type Upload } from "./limits.ts";
import type { ServedModel } from "./model.ts";

/** Image file bytes (JPEG, PNG or WebP; the format comes from the bytes) -> the model's uint8 RGB input. */
export async function imageToModelInput(bytes: Uint8Array, model: ServedModel, maxPixels: number): Promise<Uint8Array> {
  const header = checkedHeader(bytes, maxPixels);
  let pixels;
  try {
    pixels = await decodeImage(bytes, header, model.meta.preprocess.size);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new ApiError(400, "bad_image", e.message);
    throw e;
  }
  return resizeToModel(pixels, model.meta.preprocess);
}

/**
 * A PNG upload -> the model's input, decoded while the body arrives (a 20 MB PNG is never held
 * whole): the same checks, pixels and errors as imageToModelInput on the whole file.
 */
export async function pngUploadToModelInput(upload: Upload, model: ServedModel, maxPixels: number): Promise<Uint8Array> {
  const header = checkedHeader(upload.head, maxPixels);
  let pixels;
  try {
    pixels = await decodePngUpload(upload.stream(), header, model.meta.preprocess.size);
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new ApiError(400, "bad_image", e.message);
    throw e;
  }
  return resizeToModel(pixels, model.meta.preprocess);
}

/** The header of image bytes (or of their first bytes), checked before anything is decoded. */
function checkedHeader(bytes: Uint8Array, maxPixels: number): ImageHeader {
  let header;
  try {
    header = readImageHeader(bytes);
  } catch (e) {
    if (e instanceof ImageHeaderError) throw new ApiError(400, "bad_image", `The image is corrupt or truncated: ${e.message}. Send an intact file.`);
    throw e;
  }
  if (!header) {
    const found = sniffImageFormat(bytes);
    const what = found === "unknown" ? "an unknown format (not an image this server recognises)" : found;
    throw new ApiError(415, "unsupported_media_type", `The upload is ${what}; send a JPEG, PNG or WebP image.`);
  }
  if (header.animated) throw new ApiError(415, "unsupported_media_type", "The upload is an animated WebP; send a still image (JPEG, PNG or WebP).");
  checkPixels(header.width, header.height, maxPixels);
  return header;
}

/** Checks a pre-processed upload: exactly height x width x 3 bytes of RGB for this model. */
export function checkModelInput(rgb: Uint8Array, model: ServedModel): Uint8Array {
  const [h, w] = model.meta.preprocess.size;
  if (rgb.length !== h * w * 3) {
    throw new ApiError(400, "bad_pixels",
      `Pre-processed uploads must be exactly ${h}x${w}x3 = ${h * w * 3} bytes of RGB for this model, got ${rgb.length}. ` +
      "Crop to a centred square and resize to the model's input size first (GET /v1/model has it), or send the image file instead.");
  }
  return rgb;
}

/** The forward pass on one model input (over the model's test-time views); the top `top` predictions, best first. */
export function predict(rgb: Uint8Array, model: ServedModel, top: number): Prediction[] {
  const spec = model.meta.preprocess;
  const logits = forwardViews(model.net, 1, () => rgb, spec, defaultViews(spec));
  return rankPredictions(logits, model.meta.labels, top);
}
