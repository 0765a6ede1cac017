# The engine core as a make fragment: include it, then compile TFLM_ENGINE_SRC
# with TFLM_ENGINE_CFLAGS. TFLM_OPS (TFLite builtin names) selects the kernels
# compiled in and registered; the default is every op the engine implements.
# micropython.cmake reads TFLM_ALL_OPS from this file too.
TFLM_ENGINE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

TFLM_ALL_OPS := ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D \
	DEQUANTIZE EXPAND_DIMS FULLY_CONNECTED LEAKY_RELU LOGISTIC MAX_POOL_2D MEAN \
	MUL PAD QUANTIZE RELU RELU6 RESHAPE SOFTMAX SQUEEZE STRIDED_SLICE SUB SVDF \
	TANH TRANSPOSE_CONV UNIDIRECTIONAL_SEQUENCE_LSTM

tflm_lc = $(subst A,a,$(subst B,b,$(subst C,c,$(subst D,d,$(subst E,e,$(subst F,f,$(subst G,g,$(subst H,h,$(subst I,i,$(subst J,j,$(subst K,k,$(subst L,l,$(subst M,m,$(subst N,n,$(subst O,o,$(subst P,p,$(subst Q,q,$(subst R,r,$(subst S,s,$(subst T,t,$(subst U,u,$(subst V,v,$(subst W,w,$(subst X,x,$(subst Y,y,$(subst Z,z,$1))))))))))))))))))))))))))

TFLM_OPS ?= $(TFLM_ALL_OPS)
# 1: errors can name every TFLite op; 0: only ops compiled in (saves ~3 KB of flash).
TFLM_ALL_OP_NAMES ?= 1
# 0: kernels leave out their float32 or int16 paths and refuse such tensors,
# for builds that run int8 models only (the defaults are in kernel.h too).
TFLM_FLOAT_KERNELS ?= 1
TFLM_INT16_KERNELS ?= 1
# 0: errors give their status with a generic message instead of the details.
TFLM_ERROR_MESSAGES ?= 1
# 1: kernels compile only their generic loops, not the unrolled fast paths
# (smallest flash, slower invoke; the default is in conv_common.h too).
TFLM_OPTIMIZE_SIZE ?= 0
# GCC flags of builds for size (set it empty for other compilers):
# -fno-tree-loop-distribute-patterns keeps loops from becoming memset / memcpy
# calls (libc's are ~310 bytes on the Cortex-M0+), -fno-ipa-sra keeps GCC from
# cloning functions with their arguments split (~80 bytes).
TFLM_SIZE_CFLAGS ?= -fno-tree-loop-distribute-patterns -fno-ipa-sra

TFLM_OP_SRC = $(foreach op,$(1),$(TFLM_ENGINE_DIR)/kernels/$(call tflm_lc,$(op)).c)
# Helpers shared by kernels: every kernels/*.c that is not an op. Ones no
# selected op uses are dropped by the linker (-ffunction-sections, --gc-sections).
TFLM_KERNEL_HELPER_SRC := $(filter-out $(call TFLM_OP_SRC,$(TFLM_ALL_OPS)),$(wildcard $(TFLM_ENGINE_DIR)/kernels/*.c))
TFLM_ENGINE_SRC := $(addprefix $(TFLM_ENGINE_DIR)/,fb.c interpreter.c kernel_util.c planner.c quant.c \
	registry.c builtin_names.c) $(TFLM_KERNEL_HELPER_SRC) $(call TFLM_OP_SRC,$(TFLM_OPS))
# -fwrapv: int32 accumulators wrap on overflow, as TFLite's kernels assume.
TFLM_ENGINE_CFLAGS := -I$(TFLM_ENGINE_DIR) $(addprefix -DTFLM_OP_,$(TFLM_OPS)) \
	-DTFLM_ALL_OP_NAMES=$(TFLM_ALL_OP_NAMES) -DTFLM_FLOAT_KERNELS=$(TFLM_FLOAT_KERNELS) \
	-DTFLM_INT16_KERNELS=$(TFLM_INT16_KERNELS) -DTFLM_ERROR_MESSAGES=$(TFLM_ERROR_MESSAGES) \
	-DTFLM_OPTIMIZE_SIZE=$(TFLM_OPTIMIZE_SIZE) -fwrapv $(if $(filter 1,$(TFLM_OPTIMIZE_SIZE)),$(TFLM_SIZE_CFLAGS))
