#include "pooling.h"

#include "../quant.h"

enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2, OPT_FILTER_W = 3, OPT_FILTER_H = 4,
       OPT_ACTIVATION = 5 };

/* Output size and padding before, as TFLite: SAME pads half the excess (less before). */
static int32_t out_size(int padding, int32_t in, int32_t filter, int32_t stride, int32_t *pad) {
    int32_t out = padding == TFLM_PADDING_SAME ? (in + stride - 1) / stride : (in - filter + stride) / stride;
    int32_t total = (out - 1) * stride + filter - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
}

static tflm_status check_quantization(tflm_interpreter *it, const tflm_tensor *input, const tflm_tensor *output,
    int activation, tflm_pool_data *d) {
    tflm_quant qi, qo;
    tflm_status st = tflm_tensor_quant(it, input, &qi);
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, output, &qo);
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (!qi.count || !qo.count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "quantized tensors need scales");
    }
    /* TFLite: the difference in double within 1e-6 (not a number passes too) */
    if (tflm_compare_float_difference(qi.scale, qo.scale, 1e-6) == 1 || qi.zero_point != qo.zero_point) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input and output quantization differ");
    }
    tflm_activation_range_quantized(activation, output->type, qo.scale, qo.zero_point, &d->act_min, &d->act_max);
    return TFLM_OK;
}

tflm_status tflm_pool_prepare(tflm_interpreter *it, tflm_node *node) {
    tflm_pool_data *d = tflm_op_data(it, node);
    const tflm_tensor *input = tflm_node_input(it, node, 0);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    if (!input || !output) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs an input and an output");
    }
    if (input->type != TFLM_FLOAT32 && input->type != TFLM_INT8 && input->type != TFLM_INT16) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "type %s", tflm_type_name(input->type));
    }
    tflm_status st = tflm_expect(it, output, input->type, "output");
    if (st != TFLM_OK) {
        return st;
    }
    if (input->rank != 4 || output->rank != 4) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "input and output must be 4-D");
    }
    int padding = tflm_option_u8(it, node, OPT_PADDING, TFLM_PADDING_SAME);
    d->stride_w = tflm_option_i32(it, node, OPT_STRIDE_W, 0);
    d->stride_h = tflm_option_i32(it, node, OPT_STRIDE_H, 0);
    d->filter_w = tflm_option_i32(it, node, OPT_FILTER_W, 0);
    d->filter_h = tflm_option_i32(it, node, OPT_FILTER_H, 0);
    if (d->stride_w <= 0 || d->stride_h <= 0 || d->filter_w <= 0 || d->filter_h <= 0 ||
        (padding != TFLM_PADDING_SAME && padding != TFLM_PADDING_VALID)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "bad strides, filter size or padding");
    }
    d->batches = tflm_dim(it, input, 0);
    d->in_h = tflm_dim(it, input, 1);
    d->in_w = tflm_dim(it, input, 2);
    d->channels = tflm_dim(it, input, 3);
    d->out_h = out_size(padding, d->in_h, d->filter_h, d->stride_h, &d->pad_h);
    d->out_w = out_size(padding, d->in_w, d->filter_w, d->stride_w, &d->pad_w);
    /* Windows are never empty with these sizes: SAME pads less than a filter. */
    if (tflm_dim(it, output, 0) != d->batches || tflm_dim(it, output, 1) != d->out_h ||
        tflm_dim(it, output, 2) != d->out_w || tflm_dim(it, output, 3) != d->channels) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "output shape does not follow from the input, filter and strides");
    }
    int activation = tflm_option_u8(it, node, OPT_ACTIVATION, TFLM_ACT_NONE);
    if (input->type == TFLM_FLOAT32) {
        tflm_activation_range_float(activation, &d->act_min_f, &d->act_max_f);
        return TFLM_OK;
    }
    return check_quantization(it, input, output, activation, d);
}

void tflm_pool_eval(const tflm_interpreter *it, const tflm_node *node, tflm_pool_pixel pixel) {
    const tflm_pool_data *d = tflm_op_data(it, node);
    const tflm_tensor *output = tflm_node_output(it, node, 0);
    const uint8_t *in = tflm_data(it, tflm_node_input(it, node, 0));
    uint8_t *out = tflm_data(it, output);
    uint32_t size = output->elem_size;
    uint32_t pixel_bytes = (uint32_t)d->channels * size;
    tflm_pool_window w;
    w.row_step = d->in_w * d->channels;
    for (int32_t b = 0; b < d->batches; b++) {
        const uint8_t *image = in + (uint32_t)b * (uint32_t)d->in_h * (uint32_t)d->in_w * pixel_bytes;
        for (int32_t oy = 0; oy < d->out_h; oy++) {
            int32_t y0 = oy * d->stride_h - d->pad_h;
            int32_t y_start = y0 > 0 ? y0 : 0;
            int32_t y_end = y0 + d->filter_h < d->in_h ? y0 + d->filter_h : d->in_h;
            for (int32_t ox = 0; ox < d->out_w; ox++) {
                int32_t x0 = ox * d->stride_w - d->pad_w;
                int32_t x_start = x0 > 0 ? x0 : 0;
                int32_t x_end = x0 + d->filter_w < d->in_w ? x0 + d->filter_w : d->in_w;
                w.first = image + ((uint32_t)y_start * (uint32_t)d->in_w + (uint32_t)x_start) * pixel_bytes;
                w.rows = y_end - y_start;
                w.cols = x_end - x_start;
                pixel(&w, out, d);
                out += pixel_bytes;
            }
        }
    }
}
