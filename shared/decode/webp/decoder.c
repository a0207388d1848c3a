/*
 * edge-cnn's WebP decoder: libwebp (../libwebp, version 1.6.0, see ../README.md) behind a small C
 * API, compiled to Wasm by trainer/build-decoders.ts. Scaling is libwebp's own: with use_scaling its
 * rescaler reduces each decoded row as it is produced (an area average), so a lossy WebP is never held
 * at full size (a lossless one is: VP8L decodes the whole ARGB image first).
 *
 * Output: RGB, or RGBA when the file has alpha (not premultiplied). Embedded ICC profiles and EXIF are
 * not applied (the host applies the EXIF orientation). libwebp reports errors as status codes, so
 * this module never jumps out of Wasm: a failed decode returns NULL and the status in info[3].
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "src/webp/decode.h"

__attribute__((export_name("wd_malloc"))) void *wd_malloc(size_t n) { return malloc(n); }
__attribute__((export_name("wd_free"))) void wd_free(void *p) { free(p); }

/* info[0..3] receives width, height, channels and the VP8StatusCode (0 = OK); info[4] 1 if animated. */
__attribute__((export_name("wd_decode")))
uint8_t *wd_decode(const uint8_t *data, size_t length, int scale_denom, int32_t *info) {
  WebPDecoderConfig config;
  info[3] = VP8_STATUS_INVALID_PARAM;
  info[4] = 0;
  if (!WebPInitDecoderConfig(&config)) return NULL;
  VP8StatusCode status = WebPGetFeatures(data, length, &config.input);
  info[3] = status;
  if (status != VP8_STATUS_OK) return NULL;
  if (config.input.has_animation) {
    info[3] = VP8_STATUS_UNSUPPORTED_FEATURE;
    info[4] = 1;
    return NULL;
  }
  int d = scale_denom < 1 ? 1 : scale_denom;
  int width = (config.input.width + d - 1) / d, height = (config.input.height + d - 1) / d;
  int channels = config.input.has_alpha ? 4 : 3;
  if (d > 1) {
    config.options.use_scaling = 1;
    config.options.scaled_width = width;
    config.options.scaled_height = height;
  }
  size_t size = (size_t)width * (size_t)height * (size_t)channels;
  uint8_t *out = malloc(size);
  if (!out) {
    info[3] = VP8_STATUS_OUT_OF_MEMORY;
    return NULL;
  }
  config.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out;
  config.output.u.RGBA.stride = width * channels;
  config.output.u.RGBA.size = size;
  status = WebPDecode(data, length, &config);
  WebPFreeDecBuffer(&config.output);
  info[3] = status;
  if (status != VP8_STATUS_OK) {
    free(out);
    return NULL;
  }
  info[0] = width;
  info[1] = height;
  info[2] = channels;
  return out;
}
