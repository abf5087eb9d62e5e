// libpng (Debian: libpng-dev) behind setjmp-safe shims Swift can call.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Decodes a PNG held in memory to 8-bit RGBA (palette, gray, 16-bit and tRNS expanded).
/// Returns 0 on success; *out is malloc'd (caller frees with lm_png_free), width*height*4 bytes.
/// On failure returns non-zero and writes a message into err (errlen bytes).
int lm_png_decode_rgba(const uint8_t *data, size_t len, uint8_t **out,
                       uint32_t *width, uint32_t *height, char *err, size_t errlen);

/// Encodes 8-bit pixels (channels 1 = gray, 3 = RGB, 4 = RGBA) to PNG in memory.
/// Returns 0 on success; *out is malloc'd (free with lm_png_free).
int lm_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                  uint8_t **out, size_t *outlen, char *err, size_t errlen);

void lm_png_free(void *p);

/// Inflates gzip (or zlib) data held in memory (zlib, linked with libpng).
/// Returns 0 on success; *out is malloc'd (free with lm_png_free), *outlen bytes.
int lm_gunzip(const uint8_t *data, size_t len, uint8_t **out, size_t *outlen,
              char *err, size_t errlen);
