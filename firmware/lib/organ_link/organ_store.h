/*
 * organ_store: the persisted image of the runtime parameters (EEPROM on AVR, an NVS blob on ESP32).
 *
 * Pure C99, no globals. The board's HAL only reads and writes raw bytes; this module owns the
 * layout (all multi-byte fields little-endian except the CRC, as in the serial frames):
 *
 *   offset  size  field
 *   0       4     magic "ORGP"
 *   4       1     ORGAN_STORE_VERSION (layout version)
 *   5       1     count: number of records, 0..ORGAN_STORE_MAX_RECORDS
 *   6       4     design tag (u32 LE): the first 4 bytes of the design hash, so parameters saved
 *                 by another design are not applied to this one
 *   10      5*n   records: id (u8), value (i32 LE)
 *   10+5n   2     CRC-16/CCITT-FALSE over bytes 0..10+5n, most significant byte first
 *
 * Writes happen only on an explicit save (the SAVE command), which spares the EEPROM; the HAL
 * may skip bytes that already hold the value (Arduino's EEPROM.update). A save interrupted by a
 * power loss leaves an image whose CRC fails: the next boot restores defaults and says so.
 */
#ifndef ORGAN_STORE_H
#define ORGAN_STORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORGAN_STORE_VERSION 1u
#define ORGAN_STORE_MAX_RECORDS 32u
#define ORGAN_STORE_HEADER_SIZE 10u
#define ORGAN_STORE_RECORD_SIZE 5u
/* Bytes an image of n records occupies. */
#define ORGAN_STORE_IMAGE_SIZE(n) (ORGAN_STORE_HEADER_SIZE + ORGAN_STORE_RECORD_SIZE * (n) + 2u)

/* Load results; reported as params_status in HELLO and INFO. Anything but LOADED means the
 * application runs on its design defaults. */
typedef uint8_t organ_store_status_t;
#define ORGAN_STORE_LOADED 0u       /* parameters restored from the image */
#define ORGAN_STORE_ABSENT 1u       /* blank medium (all 0xFF or all 0x00): defaults */
#define ORGAN_STORE_CORRUPT 2u      /* bad magic, count or CRC, or a read error: defaults */
#define ORGAN_STORE_OLD_VERSION 3u  /* image of another layout version: defaults */
#define ORGAN_STORE_OTHER_DESIGN 4u /* image saved by another design: defaults */
#define ORGAN_STORE_REJECTED 5u     /* a stored value was refused by the application: defaults */
#define ORGAN_STORE_UNAVAILABLE 6u  /* the board has no storage (set by the application) */

/* Raw storage access. read/write return 0 on success. Addresses are relative to `base`. */
typedef struct {
    uint8_t (*read)(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n);
    uint8_t (*write)(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n);
    void *ctx;
    uint16_t base; /* where the image starts in the medium */
    uint16_t size; /* bytes available from base */
} organ_store_io_t;

typedef struct {
    uint8_t id;
    int32_t value;
} organ_store_record_t;

/* Apply one stored parameter; return 0 when accepted (bounds-checked by the application). */
typedef uint8_t (*organ_store_apply_fn)(void *app, uint8_t id, int32_t value);

/*
 * Validate the whole image first, then apply every record in order. Returns the status; on any
 * status but ORGAN_STORE_LOADED the caller must re-initialise its parameters to the defaults
 * (records applied before a rejected one have already changed them).
 */
organ_store_status_t organ_store_load(const organ_store_io_t *io, uint32_t design_tag,
                                      organ_store_apply_fn apply, void *app);

/* Write an image of n records. Returns 0 on success, 1 when it does not fit (n too large or
 * io->size too small; nothing written), 2 when the HAL reports a write error. */
uint8_t organ_store_save(const organ_store_io_t *io, uint32_t design_tag,
                         const organ_store_record_t *records, uint8_t n);

/* The design tag of a design hash: its first 4 bytes, little-endian. */
uint32_t organ_store_tag(const uint8_t *design_hash);

#ifdef __cplusplus
}
#endif

#endif /* ORGAN_STORE_H */
