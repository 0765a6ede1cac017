/*
 * What the bare-metal kernel checks (test_conv_armv6m.c, test_dsp_armv7em.c)
 * share: output over semihosting, a seeded xorshift32, failure reports, and
 * the entry: main runs the includer's run_checks(), prints
 * "CHECK_NAME: N failures" and exits with N; a fault exits with 255 instead
 * of hanging the emulator. Include it once, after defining CHECK_NAME.
 */
#ifndef BARE_METAL_CHECK_H
#define BARE_METAL_CHECK_H

#include <stdint.h>

#include "cortexm/semihosting.h"

static void print(const char *s) {
    semihosting_write0(s);
}

static void print_int(int32_t v) {
    char text[12], *p = text + sizeof text;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    *--p = 0;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    print(p);
}

static uint32_t rng_state; /* seeded by main */

static uint32_t rng(void) {
    /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int failures;

/* "what: a b got G want W", the first 20 failures only. */
static void fail(const char *what, int32_t a, int32_t b, int32_t got, int32_t want) {
    if (failures++ < 20) {
        print(what);
        print(": ");
        print_int(a);
        print(" ");
        print_int(b);
        print(" got ");
        print_int(got);
        print(" want ");
        print_int(want);
        print("\n");
    }
}

static void run_checks(void);

int main(void) {
    rng_state = 12345;
    run_checks();
    print(CHECK_NAME ": ");
    print_int(failures);
    print(" failures\n");
    return failures;
}

/* Bare-metal entry: no .data to copy (nothing initialized is written), .bss zeroed. */
extern uint32_t _estack, _sbss, _ebss;

__attribute__((noreturn)) void Reset_Handler(void) {
    for (uint32_t *p = &_sbss; p < &_ebss; p++) {
        *p = 0;
    }
    semihosting_exit(main());
}

static void fault(void) {
    print(CHECK_NAME ": fault\n");
    semihosting_exit(255);
}

__attribute__((section(".isr_vector"), used))
const void *const vectors[16] = {
    &_estack, Reset_Handler, fault, fault, fault, fault, fault, 0, 0, 0, 0, fault, fault, 0, fault, fault,
};

#endif
