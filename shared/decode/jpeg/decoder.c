/*
 * edge-cnn's JPEG decoder: libjpeg-turbo (../libjpeg-turbo, version 2.1.5.1, see ../README.md) behind a
 * small C API, compiled to Wasm by trainer/build-decoders.ts. The one thing it adds to a plain
 * libjpeg decode is the scale: scale_denom 1, 2, 4 or 8 makes libjpeg's reduced-size inverse DCT
 * produce a 1/2, 1/4 or 1/8 image directly (at 1/8 only the DC coefficient of each block is
 * used), so a large photo is never materialised at full size.
 *
 * Output: RGB (3 channels) for colour images, one grey channel for greyscale ones, CMYK and YCCK
 * converted to RGB by the usual naive formula (Adobe's inverted CMYK: R = C * K / 255). Embedded ICC
 * profiles are not applied. Memory is capped at 128 MiB (the linker's --max-memory). The error exit calls the host's jd_error, which throws (there is no
 * setjmp in this Wasm build); the host then drops the instance, so nothing needs unwinding here.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "jpeglib.h"

/* Provided by the host: throws with the message; never returns. */
__attribute__((import_module("env"), import_name("jd_error"))) void jd_error(const char *message);

__attribute__((export_name("jd_malloc"))) void *jd_malloc(size_t n) { return malloc(n); }
__attribute__((export_name("jd_free"))) void jd_free(void *p) { free(p); }

static void error_exit(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  jd_error(message);
}

/* Warnings (e.g. extraneous bytes before a marker, common in camera files) are ignored, as sharp's
 * failOn "error" ignores them; a truncated file is refused by the host before decoding. */
static void emit_message(j_common_ptr cinfo, int msg_level) { (void)cinfo; (void)msg_level; }

/* info[0..3] receives width, height, channels and the JPEG's colour space of the decoded image. */
__attribute__((export_name("jd_decode")))
uint8_t *jd_decode(const uint8_t *data, size_t length, int scale_denom, int32_t *info) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = error_exit;
  jerr.emit_message = emit_message;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);

  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  cinfo.out_color_space = cmyk ? JCS_CMYK : grey ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int)scale_denom;
  cinfo.dct_method = JDCT_ISLOW;
  /* Block smoothing only estimates AC coefficients a progressive file has not (yet) delivered; a
   * complete file never needs it, and the AC scans the host leaves out at 1/8 are never used. */
  cinfo.do_block_smoothing = FALSE;
  jpeg_start_decompress(&cinfo);

  size_t width = cinfo.output_width, height = cinfo.output_height;
  int in_channels = cinfo.output_components, channels = grey ? 1 : 3;
  uint8_t *out = malloc(width * height * (size_t)channels);
  uint8_t *row = cmyk ? malloc(width * 4) : NULL;
  if (!out || (cmyk && !row)) {
    free(out);
    free(row);
    jd_error("out of memory for the decoded image");
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t *dst = out + (size_t)cinfo.output_scanline * width * (size_t)channels;
    JSAMPROW rows[1] = { cmyk ? row : dst };
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (cmyk) {
      /* Adobe writes CMYK inverted (0 = full ink), which libjpeg passes through unchanged. */
      for (size_t x = 0; x < width; x++) {
        unsigned k = row[4 * x + 3];
        dst[3 * x] = (uint8_t)((row[4 * x] * k + 127) / 255);
        dst[3 * x + 1] = (uint8_t)((row[4 * x + 1] * k + 127) / 255);
        dst[3 * x + 2] = (uint8_t)((row[4 * x + 2] * k + 127) / 255);
      }
    }
  }
  (void)in_channels;
  info[0] = (int32_t)width;
  info[1] = (int32_t)height;
  info[2] = channels;
  info[3] = cinfo.jpeg_color_space;
  free(row);
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}
