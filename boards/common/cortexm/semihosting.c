#include "cortexm/semihosting.h"

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0a
#define SYS_FLEN 0x0c
#define SYS_ERRNO 0x13
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uint32_t semihosting_call(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__ ("r0") = op;
    register const void *r1 __asm__ ("r1") = arg;
    __asm volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

int semihosting_open(const char *path, size_t path_len, int mode) {
    const uint32_t args[3] = { (uint32_t)path, (uint32_t)mode, path_len };
    return (int)semihosting_call(SYS_OPEN, args);
}

int semihosting_close(int handle) {
    const uint32_t args[1] = { (uint32_t)handle };
    return (int)semihosting_call(SYS_CLOSE, args);
}

size_t semihosting_read(int handle, void *buf, size_t len) {
    const uint32_t args[3] = { (uint32_t)handle, (uint32_t)buf, len };
    return semihosting_call(SYS_READ, args);
}

size_t semihosting_write(int handle, const void *buf, size_t len) {
    const uint32_t args[3] = { (uint32_t)handle, (uint32_t)buf, len };
    return semihosting_call(SYS_WRITE, args);
}

int semihosting_seek(int handle, size_t pos) {
    const uint32_t args[2] = { (uint32_t)handle, pos };
    return (int)semihosting_call(SYS_SEEK, args);
}

long semihosting_flen(int handle) {
    const uint32_t args[1] = { (uint32_t)handle };
    return (long)semihosting_call(SYS_FLEN, args);
}

int semihosting_errno(void) {
    return (int)semihosting_call(SYS_ERRNO, 0);
}

void semihosting_write0(const char *text) {
    semihosting_call(SYS_WRITE0, text);
}

/* SYS_EXIT_EXTENDED carries the status (plain SYS_EXIT only says "ok" or "error"). */
void semihosting_exit(int status) {
    const uint32_t args[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status };
    semihosting_call(SYS_EXIT_EXTENDED, args);
    for (;;) {
    }
}
