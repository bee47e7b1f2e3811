/*
 * Test driver: the mock (or real) application on stdin/stdout, for tests/test_link_c.py.
 *
 *   driver STORAGE_FILE [STORAGE_SIZE]
 *
 * Boots the application with the storage image read from STORAGE_FILE (0xFF-filled, like an
 * erased EEPROM, when the file is missing), then runs a script from stdin: records of
 * [op u8][len u16 LE][len bytes]:
 *   'F'  feed the bytes to the link
 *   'T'  u16 now_ms: poll the LEVELS stream
 *   'O'  u32 overrun counter the application reports from now on
 * A RESET(REBOOT) reboots the application (storage kept). Everything the device sends goes to
 * stdout as raw bytes. At the end the storage image is written back to STORAGE_FILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_app.h"

static void sink(void *ctx, const uint8_t *data, uint8_t n)
{
    (void)ctx;
    if (fwrite(data, 1, n, stdout) != n) {
        exit(3);
    }
}

static int read_exact(uint8_t *buf, size_t n)
{
    return fread(buf, 1, n, stdin) == n;
}

int main(int argc, char **argv)
{
    static uint8_t storage[4096];
    static uint8_t data[65535];
    uint16_t size = 1024;
    void *app;
    FILE *f;
    uint32_t overruns = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: driver STORAGE_FILE [STORAGE_SIZE]\n");
        return 2;
    }
    if (argc > 2) {
        size = (uint16_t)atoi(argv[2]);
        if (size > sizeof storage) {
            return 2;
        }
    }
    memset(storage, 0xFF, sizeof storage);
    f = fopen(argv[1], "rb");
    if (f) {
        size_t got = fread(storage, 1, size, f);
        (void)got;
        fclose(f);
    }
    app = malloc(test_app_size());
    if (!app || test_app_boot(app, storage, size, sink, NULL) != ORGAN_LINK_OK) {
        fprintf(stderr, "driver: boot failed\n");
        free(app);
        return 4;
    }
    for (;;) {
        uint8_t head[3];
        uint16_t len;
        if (!read_exact(head, 3)) {
            break;
        }
        len = (uint16_t)(head[1] | (head[2] << 8));
        if (!read_exact(data, len)) {
            fprintf(stderr, "driver: truncated script\n");
            free(app);
            return 2;
        }
        if (head[0] == 'F') {
            organ_link_feed(test_app_link(app), data, len);
        } else if (head[0] == 'T' && len == 2) {
            organ_link_poll_levels(test_app_link(app), (uint16_t)(data[0] | (data[1] << 8)));
        } else if (head[0] == 'O' && len == 4) {
            overruns = (uint32_t)data[0] | ((uint32_t)data[1] << 8) | ((uint32_t)data[2] << 16) |
                       ((uint32_t)data[3] << 24);
            test_app_set_overruns(app, overruns);
        } else {
            fprintf(stderr, "driver: bad op %c/%u\n", head[0], (unsigned)len);
            free(app);
            return 2;
        }
        if (test_app_reboot_requested(app)) {
            if (test_app_boot(app, storage, size, sink, NULL) != ORGAN_LINK_OK) {
                free(app);
                return 4;
            }
            test_app_set_overruns(app, overruns);
        }
    }
    free(app);
    fflush(stdout);
    f = fopen(argv[1], "wb");
    if (!f || fwrite(storage, 1, size, f) != size) {
        return 5;
    }
    fclose(f);
    return 0;
}
