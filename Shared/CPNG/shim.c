// libpng behind setjmp-safe entry points: libpng reports errors by longjmp, which must never
// cross a Swift frame, so every libpng call happens inside these C functions.
#include "CPNG.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *err;
    size_t errlen;
} lm_err_ctx;

static void lm_set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen > 0) {
        snprintf(err, errlen, "%s", msg);
    }
}

static void lm_png_error_fn(png_structp png, png_const_charp msg) {
    lm_err_ctx *ctx = (lm_err_ctx *)png_get_error_ptr(png);
    if (ctx) lm_set_err(ctx->err, ctx->errlen, msg);
    png_longjmp(png, 1);
}

static void lm_png_warning_fn(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
} lm_read_ctx;

static void lm_read_fn(png_structp png, png_bytep out, png_size_t count) {
    lm_read_ctx *rc = (lm_read_ctx *)png_get_io_ptr(png);
    if (rc->pos + count > rc->len) {
        png_error(png, "truncated PNG data");
    }
    memcpy(out, rc->data + rc->pos, count);
    rc->pos += count;
}

int lm_png_decode_rgba(const uint8_t *data, size_t len, uint8_t **out,
                       uint32_t *width, uint32_t *height, char *err, size_t errlen) {
    *out = NULL;
    *width = 0;
    *height = 0;
    if (len < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        lm_set_err(err, errlen, "not a PNG file (bad signature)");
        return 1;
    }
    lm_err_ctx ectx = {err, errlen};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ectx, lm_png_error_fn,
                                             lm_png_warning_fn);
    if (!png) {
        lm_set_err(err, errlen, "png_create_read_struct failed");
        return 2;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        lm_set_err(err, errlen, "png_create_info_struct failed");
        return 2;
    }
    // volatile: modified between setjmp and a possible longjmp.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 3;
    }
    lm_read_ctx rc = {data, len, 0};
    png_set_read_fn(png, &rc, lm_read_fn);
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);

    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    if (color_type == PNG_COLOR_TYPE_RGB || color_type == PNG_COLOR_TYPE_GRAY ||
        color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_filler(png, 0xFF, PNG_FILLER_AFTER);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * 4) {
        lm_set_err(err, errlen, "unexpected row size after RGBA expansion");
        png_destroy_read_struct(&png, &info, NULL);
        return 4;
    }
    pixels = (uint8_t *)malloc((size_t)w * (size_t)h * 4);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)h);
    if (!pixels || !rows) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        lm_set_err(err, errlen, "out of memory");
        return 5;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *out = pixels;
    *width = w;
    *height = h;
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t len;
    size_t cap;
} lm_write_ctx;

static void lm_write_fn(png_structp png, png_bytep data, png_size_t count) {
    lm_write_ctx *wc = (lm_write_ctx *)png_get_io_ptr(png);
    if (wc->len + count > wc->cap) {
        size_t ncap = wc->cap ? wc->cap * 2 : 4096;
        while (ncap < wc->len + count) ncap *= 2;
        uint8_t *nb = (uint8_t *)realloc(wc->buf, ncap);
        if (!nb) png_error(png, "out of memory while encoding");
        wc->buf = nb;
        wc->cap = ncap;
    }
    memcpy(wc->buf + wc->len, data, count);
    wc->len += count;
}

static void lm_flush_fn(png_structp png) { (void)png; }

int lm_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                  uint8_t **out, size_t *outlen, char *err, size_t errlen) {
    *out = NULL;
    *outlen = 0;
    int color_type;
    switch (channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 2: color_type = PNG_COLOR_TYPE_GRAY_ALPHA; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGBA; break;
    default:
        lm_set_err(err, errlen, "channels must be 1, 2, 3 or 4");
        return 1;
    }
    if (width == 0 || height == 0) {
        lm_set_err(err, errlen, "width and height must be positive");
        return 1;
    }
    lm_err_ctx ectx = {err, errlen};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ectx, lm_png_error_fn,
                                              lm_png_warning_fn);
    if (!png) {
        lm_set_err(err, errlen, "png_create_write_struct failed");
        return 2;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        lm_set_err(err, errlen, "png_create_info_struct failed");
        return 2;
    }
    lm_write_ctx wc = {NULL, 0, 0};
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(wc.buf);
        png_destroy_write_struct(&png, &info);
        return 3;
    }
    png_set_write_fn(png, &wc, lm_write_fn, lm_flush_fn);
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    size_t stride = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * stride);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = wc.buf;
    *outlen = wc.len;
    return 0;
}

void lm_png_free(void *p) { free(p); }

#include <zlib.h>

int lm_gunzip(const uint8_t *data, size_t len, uint8_t **out, size_t *outlen,
              char *err, size_t errlen) {
    *out = NULL;
    *outlen = 0;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    // 15 + 32: accept both gzip and zlib headers.
    if (inflateInit2(&zs, 15 + 32) != Z_OK) {
        lm_set_err(err, errlen, "inflateInit2 failed");
        return 1;
    }
    size_t cap = len * 4 + 1024;
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (!buf) {
        inflateEnd(&zs);
        lm_set_err(err, errlen, "out of memory");
        return 2;
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    int rc;
    do {
        if (zs.total_out >= cap) {
            size_t ncap = cap * 2;
            uint8_t *nb = (uint8_t *)realloc(buf, ncap);
            if (!nb) {
                free(buf);
                inflateEnd(&zs);
                lm_set_err(err, errlen, "out of memory");
                return 2;
            }
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0));
    size_t total = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        lm_set_err(err, errlen, zs.msg ? zs.msg : "corrupt compressed data");
        return 3;
    }
    *out = buf;
    *outlen = total;
    return 0;
}
