/*
 * The `tflm` MicroPython module: a thin binding of the engine (engine/tflm.h).
 *
 * This is the one file that knows MicroPython. Everything is allocated at
 * construction (the interpreter object with the engine state embedded, the
 * arena, the tensor views); invoke(), set_input() and the views never touch
 * the GC heap, so inference behaves the same on a fragmented heap.
 */
#include <string.h>

#include "py/binary.h"
#include "py/mphal.h"
#include "py/objarray.h"
#include "py/objstr.h"
#include "py/runtime.h"

#include "tflm.h"

/* Clock for profile(): a port can give a finer one, e.g. a cycle counter. */
#ifndef MICROPY_TFLM_CLOCK
#define MICROPY_TFLM_CLOCK() ((uint32_t)mp_hal_ticks_us())
#define MICROPY_TFLM_CLOCK_UNIT "us"
#endif
#ifndef MICROPY_TFLM_CLOCK_UNIT
#define MICROPY_TFLM_CLOCK_UNIT "ticks"
#endif
/* MicroPython before 1.25 spells it NORETURN. */
#ifndef MP_NORETURN
#define MP_NORETURN NORETURN
#endif

typedef struct _tflm_interpreter_obj_t {
    mp_obj_base_t base;
    tflm_interpreter it;
    mp_obj_t model;   /* the engine reads the model in place: keep its buffer alive */
    uint8_t *arena;
    mp_obj_t inputs;  /* tuples of tflm_tensor_obj_t, made once at construction */
    mp_obj_t outputs;
} tflm_interpreter_obj_t;

/* A zero-copy view of one input or output tensor in the arena. */
typedef struct _tflm_tensor_obj_t {
    mp_obj_base_t base;
    tflm_interpreter_obj_t *interp; /* keeps the arena alive as long as the view */
    uint16_t index;
    bool is_output;
} tflm_tensor_obj_t;

static const mp_obj_type_t tflm_tensor_type;

static uint32_t profile_clock(void) {
    return MICROPY_TFLM_CLOCK();
}

/* Polled by invoke between ops, so Ctrl-C stops a long inference. */
static int keyboard_interrupt_pending(void *arg) {
    (void)arg;
    return MP_STATE_THREAD(mp_pending_exception) != MP_OBJ_NULL;
}

static char array_typecode(int type) {
    switch (type) {
        case TFLM_INT8: return 'b';
        case TFLM_INT16: return 'h';
        case TFLM_INT32: return 'i';
        case TFLM_INT64: return 'q';
        case TFLM_FLOAT32: return 'f';
        default: return 'B'; /* uint8, bool */
    }
}

static MP_NORETURN void raise_engine_error(const tflm_interpreter *it) {
    mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), it->message);
}

/*
 * MemoryError naming the exact arena size. The core stops at the first table
 * that does not fit and may only know a lower bound; a probe arena of that
 * size (freed at once) tells the next bound or the exact size.
 */
static MP_NORETURN void raise_arena_too_small(tflm_interpreter *it, const mp_buffer_info_t *model,
    const int32_t *allowed, size_t allowed_count, size_t arena_size) {
    uint32_t needed = it->arena_needed;
    bool exact = !it->arena_needed_is_lower_bound;
    while (!exact) {
        uint8_t *probe = m_new_maybe(uint8_t, needed);
        if (probe == NULL) {
            break;
        }
        tflm_status st = tflm_init(it, model->buf, model->len, probe, needed, allowed, allowed_count);
        m_del(uint8_t, probe, needed);
        if (st == TFLM_OK) {
            needed = tflm_arena_used_bytes(it);
            exact = true;
        } else if (st != TFLM_ERROR_ARENA) {
            raise_engine_error(it);
        } else if (it->arena_needed <= needed && it->arena_needed_is_lower_bound) {
            break; /* no progress: report the bound we have */
        } else {
            needed = it->arena_needed;
            exact = !it->arena_needed_is_lower_bound;
        }
    }
    mp_raise_msg_varg(&mp_type_MemoryError, MP_ERROR_TEXT("arena_size %u is too small: the model needs %s%u bytes"),
        (unsigned)arena_size, exact ? "" : "at least ", (unsigned)needed);
}

/* Builtin codes of the op names in `ops` (a list or tuple), or NULL for None. */
static int32_t *allowed_op_codes(mp_obj_t ops, size_t *count) {
    *count = 0;
    if (ops == mp_const_none) {
        return NULL;
    }
    size_t n;
    mp_obj_t *names;
    mp_obj_get_array(ops, &n, &names);
    int32_t *codes = m_new(int32_t, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        const char *name = mp_obj_str_get_str(names[i]);
        codes[i] = tflm_builtin_code(name);
        if (codes[i] < 0) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("unknown op '%s'"), name);
        }
    }
    *count = n;
    return codes;
}

static mp_obj_t make_views(tflm_interpreter_obj_t *interp, size_t count, bool is_output) {
    mp_obj_tuple_t *views = MP_OBJ_TO_PTR(mp_obj_new_tuple(count, NULL));
    for (size_t i = 0; i < count; i++) {
        tflm_tensor_obj_t *view = mp_obj_malloc(tflm_tensor_obj_t, &tflm_tensor_type);
        view->interp = interp;
        view->index = (uint16_t)i;
        view->is_output = is_output;
        views->items[i] = MP_OBJ_FROM_PTR(view);
    }
    return MP_OBJ_FROM_PTR(views);
}

static mp_obj_t interpreter_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    enum { ARG_model, ARG_arena_size, ARG_ops };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_model, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_arena_size, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_ops, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_buffer_info_t model;
    mp_get_buffer_raise(args[ARG_model].u_obj, &model, MP_BUFFER_READ);
    mp_int_t arena_size = args[ARG_arena_size].u_int;
    if (arena_size <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("arena_size must be positive"));
    }
    size_t allowed_count;
    int32_t *allowed = allowed_op_codes(args[ARG_ops].u_obj, &allowed_count);

    tflm_interpreter_obj_t *self = mp_obj_malloc(tflm_interpreter_obj_t, type);
    self->model = args[ARG_model].u_obj;
    self->arena = m_new(uint8_t, arena_size);
    tflm_status st = tflm_init(&self->it, model.buf, model.len, self->arena, arena_size, allowed, allowed_count);
    if (st != TFLM_OK) {
        /* Give the arena back before probing or raising: the caller may retry. */
        m_del(uint8_t, self->arena, arena_size);
        self->arena = NULL;
        if (st == TFLM_ERROR_ARENA) {
            raise_arena_too_small(&self->it, &model, allowed, allowed_count, arena_size);
        }
        raise_engine_error(&self->it);
    }
    if (allowed != NULL) {
        m_del(int32_t, allowed, allowed_count ? allowed_count : 1);
    }
    self->it.clock = profile_clock;
    self->it.should_abort = keyboard_interrupt_pending;
    self->inputs = make_views(self, self->it.input_count, false);
    self->outputs = make_views(self, self->it.output_count, true);
    return MP_OBJ_FROM_PTR(self);
}

/* Looks up input or output `index_in`; ValueError when out of range. */
static tflm_tensor_obj_t *view_at(mp_obj_t views_in, mp_obj_t index_in, const char *what) {
    mp_obj_tuple_t *views = MP_OBJ_TO_PTR(views_in);
    mp_int_t index = mp_obj_get_int(index_in);
    if (index < 0 || (size_t)index >= views->len) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s index %d out of range: the model has %u"),
            what, (int)index, (unsigned)views->len);
    }
    return MP_OBJ_TO_PTR(views->items[index]);
}

static void tensor_info(const tflm_tensor_obj_t *view, tflm_tensor_info *info) {
    const tflm_interpreter *it = &view->interp->it;
    if (view->is_output) {
        tflm_output(it, view->index, info);
    } else {
        tflm_input(it, view->index, info);
    }
}

static mp_obj_t interpreter_set_input(mp_obj_t self_in, mp_obj_t index_in, mp_obj_t data_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tflm_tensor_info info;
    tensor_info(view_at(self->inputs, index_in, "input"), &info);
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    if (data.len != info.bytes) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("input %d needs %u bytes, got %u"),
            (int)mp_obj_get_int(index_in), (unsigned)info.bytes, (unsigned)data.len);
    }
    memcpy(info.data, data.buf, data.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(interpreter_set_input_obj, interpreter_set_input);

#if MICROPY_STACK_CHECK
/* C stack an invoke may take below interpreter_invoke: the deepest chain,
 * measured with gcc -fstack-usage at -O2 for the Cortex-M0+, is about 4.7 KB
 * (DEPTHWISE_CONV_2D's shared-input path keeps its packed rows, windows and
 * weights on the stack, not in the arena); other kernels take under 2.2 KB. */
#define TFLM_INVOKE_STACK_BYTES 5120

/* A MemoryError instead of a C stack overflow (a hard fault or worse) when
 * invoke is called from deep in Python code on a board with a small stack. */
static void check_stack_for_invoke(void) {
    volatile char here;
    size_t used = (size_t)(MP_STATE_THREAD(stack_top) - (char *)&here);
    size_t limit = MP_STATE_THREAD(stack_limit);
    if (used + TFLM_INVOKE_STACK_BYTES > limit) {
        mp_raise_msg_varg(&mp_type_MemoryError, MP_ERROR_TEXT("invoke needs %u bytes of C stack, %d are left"),
            (unsigned)TFLM_INVOKE_STACK_BYTES, (int)(limit > used ? limit - used : 0));
    }
}
#endif

static mp_obj_t interpreter_invoke(mp_obj_t self_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    #if MICROPY_STACK_CHECK
    check_stack_for_invoke();
    #endif
    if (tflm_invoke(&self->it) != TFLM_OK) {
        /* Only the abort callback stops invoke: raise the pending KeyboardInterrupt
         * (`true`: raise exceptions, the same value in every MicroPython version). */
        mp_handle_pending(true);
        raise_engine_error(&self->it);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(interpreter_invoke_obj, interpreter_invoke);

static mp_obj_t interpreter_get_output(mp_obj_t self_in, mp_obj_t index_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tflm_tensor_info info;
    tensor_info(view_at(self->outputs, index_in, "output"), &info);
    char typecode = array_typecode(info.type);
    mp_obj_array_t *copy = mp_obj_malloc(mp_obj_array_t, &mp_type_array);
    copy->typecode = typecode;
    copy->free = 0;
    copy->len = info.bytes / mp_binary_get_size('@', typecode, NULL);
    copy->items = m_new(uint8_t, info.bytes);
    memcpy(copy->items, info.data, info.bytes);
    return MP_OBJ_FROM_PTR(copy);
}
static MP_DEFINE_CONST_FUN_OBJ_2(interpreter_get_output_obj, interpreter_get_output);

static mp_obj_t interpreter_input(mp_obj_t self_in, mp_obj_t index_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_FROM_PTR(view_at(self->inputs, index_in, "input"));
}
static MP_DEFINE_CONST_FUN_OBJ_2(interpreter_input_obj, interpreter_input);

static mp_obj_t interpreter_output(mp_obj_t self_in, mp_obj_t index_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_FROM_PTR(view_at(self->outputs, index_in, "output"));
}
static MP_DEFINE_CONST_FUN_OBJ_2(interpreter_output_obj, interpreter_output);

static mp_obj_t interpreter_arena_used_bytes(mp_obj_t self_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(tflm_arena_used_bytes(&self->it));
}
static MP_DEFINE_CONST_FUN_OBJ_1(interpreter_arena_used_bytes_obj, interpreter_arena_used_bytes);

static mp_obj_t interpreter_reset(mp_obj_t self_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tflm_reset(&self->it);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(interpreter_reset_obj, interpreter_reset);

/* [(op_name, ticks), ...] of the last invoke, in tflm.PROFILE_UNIT. */
static mp_obj_t interpreter_profile(mp_obj_t self_in) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t count = self->it.node_count;
    mp_obj_t list = mp_obj_new_list(count, NULL);
    for (size_t i = 0; i < count; i++) {
        const char *name = tflm_node_op_name(&self->it, i);
        mp_obj_t entry[2] = {
            mp_obj_new_str(name, strlen(name)),
            mp_obj_new_int_from_uint(tflm_node_ticks(&self->it, i)),
        };
        mp_obj_list_store(list, MP_OBJ_NEW_SMALL_INT(i), mp_obj_new_tuple(2, entry));
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_1(interpreter_profile_obj, interpreter_profile);

static void interpreter_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    tflm_interpreter_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return; /* read-only */
    }
    if (attr == MP_QSTR_inputs) {
        dest[0] = self->inputs;
    } else if (attr == MP_QSTR_outputs) {
        dest[0] = self->outputs;
    } else {
        dest[1] = MP_OBJ_SENTINEL; /* methods: continue in locals_dict */
    }
}

static const mp_rom_map_elem_t interpreter_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_set_input), MP_ROM_PTR(&interpreter_set_input_obj) },
    { MP_ROM_QSTR(MP_QSTR_invoke), MP_ROM_PTR(&interpreter_invoke_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_output), MP_ROM_PTR(&interpreter_get_output_obj) },
    { MP_ROM_QSTR(MP_QSTR_input), MP_ROM_PTR(&interpreter_input_obj) },
    { MP_ROM_QSTR(MP_QSTR_output), MP_ROM_PTR(&interpreter_output_obj) },
    { MP_ROM_QSTR(MP_QSTR_arena_used_bytes), MP_ROM_PTR(&interpreter_arena_used_bytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&interpreter_reset_obj) },
    { MP_ROM_QSTR(MP_QSTR_profile), MP_ROM_PTR(&interpreter_profile_obj) },
};
static MP_DEFINE_CONST_DICT(interpreter_locals_dict, interpreter_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    tflm_interpreter_type,
    MP_QSTR_Interpreter,
    MP_TYPE_FLAG_NONE,
    make_new, interpreter_make_new,
    attr, interpreter_attr,
    locals_dict, &interpreter_locals_dict
    );

static void tensor_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    tflm_tensor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    tflm_tensor_info info;
    tensor_info(self, &info);
    mp_printf(print, "<Tensor %s %u %s (", self->is_output ? "output" : "input", (unsigned)self->index,
        tflm_type_name(info.type));
    for (unsigned i = 0; i < info.rank; i++) {
        mp_printf(print, i ? ", %d" : "%d", (int)info.dims[i]);
    }
    mp_print_str(print, info.rank == 1 ? ",)>" : ")>");
}

static void tensor_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    tflm_tensor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return; /* read-only */
    }
    tflm_tensor_info info;
    tensor_info(self, &info);
    if (attr == MP_QSTR_shape) {
        mp_obj_tuple_t *shape = MP_OBJ_TO_PTR(mp_obj_new_tuple(info.rank, NULL));
        for (size_t i = 0; i < info.rank; i++) {
            shape->items[i] = mp_obj_new_int(info.dims[i]);
        }
        dest[0] = MP_OBJ_FROM_PTR(shape);
    } else if (attr == MP_QSTR_dtype) {
        const char *name = tflm_type_name(info.type);
        dest[0] = mp_obj_new_str(name, strlen(name));
    } else if (attr == MP_QSTR_scale) {
        dest[0] = mp_obj_new_float(info.scale);
    } else if (attr == MP_QSTR_zero_point) {
        dest[0] = mp_obj_new_int(info.zero_point);
    } else if (attr == MP_QSTR_index) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->index);
    }
}

/* Reads and writes go straight to the arena; tensors stored in the model are read-only. */
static mp_int_t tensor_get_buffer(mp_obj_t self_in, mp_buffer_info_t *bufinfo, mp_uint_t flags) {
    tflm_tensor_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const tflm_interpreter *it = &self->interp->it;
    tflm_tensor_info info;
    tensor_info(self, &info);
    const uint8_t *data = info.data;
    if ((flags & MP_BUFFER_WRITE) && (data < it->arena || data >= it->arena + it->arena_size)) {
        return 1;
    }
    bufinfo->buf = info.data;
    bufinfo->len = info.bytes;
    bufinfo->typecode = array_typecode(info.type);
    return 0;
}

static MP_DEFINE_CONST_OBJ_TYPE(
    tflm_tensor_type,
    MP_QSTR_Tensor,
    MP_TYPE_FLAG_NONE,
    print, tensor_print,
    attr, tensor_attr,
    buffer, tensor_get_buffer
    );

/* Names of the ops compiled into this firmware. */
static mp_obj_t tflm_ops(void) {
    size_t count = tflm_kernel_count();
    mp_obj_t list = mp_obj_new_list(count, NULL);
    for (size_t i = 0; i < count; i++) {
        const char *name = tflm_kernel_name(i);
        mp_obj_list_store(list, MP_OBJ_NEW_SMALL_INT(i), mp_obj_new_str(name, strlen(name)));
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_0(tflm_ops_obj, tflm_ops);

static const MP_DEFINE_STR_OBJ(tflm_version_obj, TFLM_VERSION);
static const MP_DEFINE_STR_OBJ(tflm_profile_unit_obj, MICROPY_TFLM_CLOCK_UNIT);

static const mp_rom_map_elem_t tflm_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_tflm) },
    { MP_ROM_QSTR(MP_QSTR___version__), MP_ROM_PTR(&tflm_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_SCHEMA_VERSION), MP_ROM_INT(TFLM_SCHEMA_VERSION) },
    { MP_ROM_QSTR(MP_QSTR_PROFILE_UNIT), MP_ROM_PTR(&tflm_profile_unit_obj) },
    { MP_ROM_QSTR(MP_QSTR_Interpreter), MP_ROM_PTR(&tflm_interpreter_type) },
    { MP_ROM_QSTR(MP_QSTR_Tensor), MP_ROM_PTR(&tflm_tensor_type) },
    { MP_ROM_QSTR(MP_QSTR_ops), MP_ROM_PTR(&tflm_ops_obj) },
};
static MP_DEFINE_CONST_DICT(tflm_module_globals, tflm_module_globals_table);

const mp_obj_module_t tflm_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&tflm_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_tflm, tflm_user_cmodule);
