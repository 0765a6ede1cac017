#include "conv_common.h"

/* Conv2DOptions, DepthwiseConv2DOptions and TransposeConvOptions all start so. */
enum { OPT_PADDING = 0, OPT_STRIDE_W = 1, OPT_STRIDE_H = 2 };

/* Effective scales from here up would need shifts TFLite's 64-bit requantization cannot do. */
#define MAX_EFFECTIVE_SCALE_LOG2 14 /* 16384 */
/* Bounds sizes, strides, dilations and effective filter sizes so that sums of
 * three of them, as eval's window arithmetic makes, stay within int32. */
#define MAX_EXTENT 0x1fffffff
/* Op data beyond this is refused by the interpreter ("op data too large"). */
#define OP_DATA_TOO_LARGE 0x7ffffff0u

void tflm_conv_read_options(const tflm_interpreter *it, const tflm_node *node, tflm_conv_options *o) {
    o->padding = tflm_option_u8(it, node, OPT_PADDING, TFLM_PADDING_SAME);
    o->stride_w = tflm_option_i32(it, node, OPT_STRIDE_W, 0);
    o->stride_h = tflm_option_i32(it, node, OPT_STRIDE_H, 0);
}

static bool folds_bias(const tflm_conv_layout *l, int input_type) {
    return l->folded_bias && input_type == TFLM_INT8;
}

uint32_t tflm_conv_data_size(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l) {
    const tflm_tensor *input = tflm_node_input(it, node, l->input);
    const tflm_tensor *filter = tflm_node_input(it, node, l->filter);
    if (!input || !filter || filter->rank != 4) {
        return (uint32_t)sizeof(tflm_conv_data);
    }
    uint32_t channels = (uint32_t)tflm_dim(it, filter, l->channel_dim);
    if (input->type != TFLM_INT8 && input->type != TFLM_INT16) {
        return (uint32_t)sizeof(tflm_conv_data);
    }
    /* multipliers and shifts (see tflm_conv_data) */
    uint64_t bytes = sizeof(tflm_conv_data) + 5u * (uint64_t)channels;
    return bytes < OP_DATA_TOO_LARGE ? (uint32_t)bytes : OP_DATA_TOO_LARGE;
}

static bool bias_allowed(const tflm_conv_layout *l, int input_type, int bias_type) {
    switch (input_type) {
        case TFLM_FLOAT32: return bias_type == TFLM_FLOAT32;
        case TFLM_INT8: return bias_type == TFLM_INT32;
        default: return bias_type < 16 && (l->int16_bias_types & (1u << bias_type)) != 0;
    }
}

tflm_status tflm_conv_tensors_get(tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l,
    tflm_conv_tensors *t, tflm_conv_data *d) {
    t->input = tflm_node_input(it, node, l->input);
    t->filter = tflm_node_input(it, node, l->filter);
    t->bias = tflm_node_input(it, node, l->bias);
    t->output = tflm_node_output(it, node, 0);
    if (!t->input || !t->filter || !t->output) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "needs input, filter and output");
    }
    if (t->input->rank != 4 || t->filter->rank != 4 || t->output->rank != 4) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "input, filter and output must have rank 4 (NHWC)");
    }
    int type = t->input->type;
    if ((type != TFLM_FLOAT32 && type != TFLM_INT8 && type != TFLM_INT16) || !tflm_type_compiled(type)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "input type %s", tflm_type_name(type));
    }
    tflm_status st = tflm_expect(it, t->output, type, "output");
    if (st == TFLM_OK) {
        st = tflm_expect(it, t->filter, type == TFLM_FLOAT32 ? TFLM_FLOAT32 : TFLM_INT8, "filter");
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (t->bias && !bias_allowed(l, type, t->bias->type)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "bias of type %s with %s input",
            tflm_type_name(t->bias->type), tflm_type_name(type));
    }
    d->out_c = tflm_dim(it, t->output, 3);
    if (tflm_dim(it, t->filter, l->channel_dim) != d->out_c) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "filter has %d output channels, output has %d",
            (int)tflm_dim(it, t->filter, l->channel_dim), (int)d->out_c);
    }
    if (t->bias && tflm_elements(it, t->bias) != (uint32_t)d->out_c) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "bias has %u elements, expected %d",
            (unsigned)tflm_elements(it, t->bias), (int)d->out_c);
    }
    d->batches = tflm_dim(it, t->input, 0);
    if (tflm_dim(it, t->output, 0) != d->batches) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "input has %d batches, output %d",
            (int)d->batches, (int)tflm_dim(it, t->output, 0));
    }
    return TFLM_OK;
}

/*
 * ComputeOutSize and ComputePaddingWithOffset along one axis: `in` is the
 * convolution's input size, `out` the size the model gives its output.
 * Extents are bounded first, so the rest fits int32 (no 64-bit division).
 */
static tflm_status axis_padding(tflm_interpreter *it, int padding, int32_t in, int32_t filter, int32_t stride,
    int32_t dilation, int32_t out, int32_t *pad, const char *axis) {
    if (stride < 1 || dilation < 1 || stride > MAX_EXTENT || dilation > MAX_EXTENT) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "%s stride %d or dilation %d is out of range", axis, (int)stride,
            (int)dilation);
    }
    if (padding != TFLM_PADDING_SAME && padding != TFLM_PADDING_VALID) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "unknown padding %d", padding);
    }
    int64_t effective_filter = (int64_t)(filter - 1) * dilation + 1;
    if (in > MAX_EXTENT || effective_filter > MAX_EXTENT) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "%s: input %d or filter %d with dilation %d is too large", axis,
            (int)in, (int)filter, (int)dilation);
    }
    int32_t span = padding == TFLM_PADDING_SAME ? 1 : (int32_t)effective_filter;
    /* C's truncating division, on magnitudes */
    int32_t stretch = in + stride - span;
    uint32_t remainder;
    uint32_t magnitude = tflm_udiv((uint32_t)(stretch < 0 ? -stretch : stretch), (uint32_t)stride, &remainder);
    int32_t expected = stretch < 0 ? -(int32_t)magnitude : (int32_t)magnitude;
    if (expected != out || out < 1) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "%s: %d in with filter %d, stride %d, dilation %d and %s padding "
            "gives %d out, the model says %d", axis, (int)in, (int)filter, (int)stride, (int)dilation,
            padding == TFLM_PADDING_SAME ? "SAME" : "VALID", (int)expected, (int)out);
    }
    int32_t total = (expected - 1) * stride + (int32_t)effective_filter - in;
    *pad = total > 0 ? total / 2 : 0;
    return TFLM_OK;
}

tflm_status tflm_conv_geometry(tflm_interpreter *it, const tflm_conv_tensors *t, tflm_conv_data *d, int padding,
    int32_t stride_h, int32_t stride_w, int32_t dilation_h, int32_t dilation_w, bool transposed) {
    d->in_h = tflm_dim(it, t->input, 1);
    d->in_w = tflm_dim(it, t->input, 2);
    d->in_c = tflm_dim(it, t->input, 3);
    d->out_h = tflm_dim(it, t->output, 1);
    d->out_w = tflm_dim(it, t->output, 2);
    d->filter_h = tflm_dim(it, t->filter, 1);
    d->filter_w = tflm_dim(it, t->filter, 2);
    d->stride_h = stride_h;
    d->stride_w = stride_w;
    d->dilation_h = dilation_h;
    d->dilation_w = dilation_w;
    if (d->in_h < 1 || d->in_w < 1 || d->in_c < 1 || d->filter_h < 1 || d->filter_w < 1) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "empty input or filter");
    }
    int32_t conv_in_h = transposed ? d->out_h : d->in_h, conv_out_h = transposed ? d->in_h : d->out_h;
    int32_t conv_in_w = transposed ? d->out_w : d->in_w, conv_out_w = transposed ? d->in_w : d->out_w;
    tflm_status st = axis_padding(it, padding, conv_in_h, d->filter_h, stride_h, dilation_h, conv_out_h, &d->pad_h, "height");
    if (st == TFLM_OK) {
        st = axis_padding(it, padding, conv_in_w, d->filter_w, stride_w, dilation_w, conv_out_w, &d->pad_w, "width");
    }
    return st;
}

tflm_conv_int8 tflm_conv_int8_params(const tflm_interpreter *it, const tflm_node *node, const tflm_conv_layout *l,
    const tflm_conv_data *d) {
    const tflm_tensor *bias_t = tflm_node_input(it, node, l->bias);
    const int32_t *bias = bias_t ? tflm_data(it, bias_t) : NULL;
    const int8_t *w = tflm_data(it, tflm_node_input(it, node, l->filter));
    int32_t *folded = tflm_scratch(it, node);
    /* The filter is [outer, out_c, inner] around its channel dimension:
     * CONV_2D's [out_c, h, w, c] or DEPTHWISE_CONV_2D's [1, h, w, out_c]. */
    int32_t out_c = d->out_c, inner = 1, outer = 1;
    if (l->channel_dim == 0) {
        inner = d->filter_h * d->filter_w * d->filter_c;
    } else {
        outer = d->filter_h * d->filter_w;
    }
    if (outer == 1) {
        tflm_sum_i8_rows(w, inner, out_c, folded);
    } else {
        /* inner == 1: the channel's taps lie out_c apart */
        for (int32_t c = 0; c < out_c; c++) {
            int32_t sum = 0;
            const int8_t *tap = w + c;
            for (int32_t o = 0; o < outer; o++, tap += out_c) {
                sum += *tap;
            }
            folded[c] = sum;
        }
    }
    for (int32_t c = 0; c < out_c; c++) {
        folded[c] = (bias ? bias[c] : 0) + d->input_offset * folded[c];
    }
    tflm_conv_int8 k = {
        .bias = bias, .folded = folded, .multiplier = tflm_conv_multipliers(d),
        .shift = tflm_conv_shifts(d), .input_offset = d->input_offset,
        .zero_point = d->output_offset, .min = d->act.q.min, .max = d->act.q.max,
    };
    return k;
}

tflm_status tflm_conv_quantize(tflm_interpreter *it, tflm_node *node, const tflm_conv_layout *l,
    const tflm_conv_tensors *t, tflm_conv_data *d, int activation) {
    if (activation < TFLM_ACT_NONE || activation > TFLM_ACT_RELU6) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "fused activation %d", activation);
    }
    int type = t->input->type;
    if (TFLM_FLOAT_KERNELS && type == TFLM_FLOAT32) { /* else refused by tflm_conv_tensors_get */
        tflm_activation_range_float(activation, &d->act.f.min, &d->act.f.max);
        return TFLM_OK;
    }
    tflm_quant qi, qf, qo;
    tflm_status st = tflm_tensor_quant(it, t->input, &qi);
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, t->filter, &qf);
    }
    if (st == TFLM_OK) {
        st = tflm_tensor_quant(it, t->output, &qo);
    }
    if (st != TFLM_OK) {
        return st;
    }
    if (!qi.count || !qf.count || !qo.count) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "quantized input, filter and output need scales");
    }
    if (qf.count != 1 && (qf.count != (uint32_t)d->out_c || qf.quantized_dim != l->channel_dim)) {
        return tflm_fail(it, TFLM_ERROR_MODEL, "filter has %u scales along dimension %d for %d channels",
            (unsigned)qf.count, (int)qf.quantized_dim, (int)d->out_c);
    }
    for (uint32_t c = 0; c < qf.count; c++) {
        if (tflm_quant_zero_point(it, t->filter, c) != 0) {
            return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "filter zero points must be 0");
        }
    }
    if (type == TFLM_INT16 && (qi.zero_point != 0 || qo.zero_point != 0)) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int16 activations need zero points of 0");
    }
    d->input_offset = -qi.zero_point;
    d->output_offset = qo.zero_point;
    tflm_activation_range_quantized(activation, type, qo.scale, qo.zero_point, &d->act.q.min, &d->act.q.max);

    int32_t *mult = tflm_conv_multipliers(d);
    int8_t *shifts = tflm_conv_shifts(d);
    for (int32_t c = 0; c < d->out_c; c++) {
        /* TFLite scales per channel in double: input * filter / output (exact in integers here). */
        int shift;
        if (!tflm_quantize_ratio_below(qi.scale, qf.scales[qf.count == 1 ? 0 : c], qo.scale, MAX_EFFECTIVE_SCALE_LOG2,
                &mult[c], &shift)) {
            return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "channel %d: input * filter / output scale is out of range",
                (int)c);
        }
        shifts[c] = (int8_t)shift;
    }
    if (!folds_bias(l, type)) {
        return TFLM_OK;
    }
    /* eval reads the filter and bias to fold them */
    if (!(t->filter->flags & TFLM_TENSOR_CONSTANT) || (t->bias && !(t->bias->flags & TFLM_TENSOR_CONSTANT))) {
        return tflm_fail(it, TFLM_ERROR_UNSUPPORTED, "int8 filter and bias must be constant");
    }
    return tflm_request_scratch(it, node, tflm_conv_folded_bias_bytes(d));
}
