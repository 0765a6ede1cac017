/*
 * ARM semihosting: the debugger or emulator (QEMU, our rp2040js runner)
 * answers these calls with host files, so open() on the board reads files
 * the harness chose without copying them over the UART.
 */
#ifndef CORTEXM_SEMIHOSTING_H
#define CORTEXM_SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/* SYS_OPEN modes: the index of the fopen() mode string. */
enum {
    SEMIHOSTING_MODE_R = 0,
    SEMIHOSTING_MODE_RB = 1,
    SEMIHOSTING_MODE_W = 4,
    SEMIHOSTING_MODE_WB = 5,
    SEMIHOSTING_MODE_A = 8,
    SEMIHOSTING_MODE_AB = 9,
};

/* Returns a handle, or -1. */
int semihosting_open(const char *path, size_t path_len, int mode);
int semihosting_close(int handle);
/* Both return the number of bytes NOT transferred (0: all of them). */
size_t semihosting_read(int handle, void *buf, size_t len);
size_t semihosting_write(int handle, const void *buf, size_t len);
int semihosting_seek(int handle, size_t pos);
/* File length in bytes, or -1. */
long semihosting_flen(int handle);
/* Host errno of the last failed call. */
int semihosting_errno(void);
/* Writes a NUL-terminated string to the debugger's console (QEMU: its stderr). */
void semihosting_write0(const char *text);
void semihosting_exit(int status) __attribute__((noreturn));

#endif
