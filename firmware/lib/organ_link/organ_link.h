/*
 * organ_link: the color organ's serial protocol, device side (docs/protocol.md is the spec).
 *
 * Pure C99, no Arduino headers, no globals: the caller owns one organ_link_t. Compiled unchanged
 * into the AVR and ESP32 firmware, the native simulated board, host tests and the fuzz harness.
 *
 * Wire format: every frame is COBS-encoded and ends with one 0x00 byte. Decoded, a frame is
 *   [version u8][type u8][seq u8][len u8][payload: len bytes][crc16 big-endian]
 * The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over
 * version..payload; appended most significant byte first, so the CRC over the whole decoded frame
 * is 0. Multi-byte payload fields are little-endian.
 *
 * Memory: one receive buffer (ORGAN_LINK_RX_MAX decoded bytes, COBS is decoded on the fly) and one
 * transmit frame buffer (ORGAN_LINK_TX_MAX). Replies longer than one frame (PROCESS results) are
 * streamed: the writer sends a frame each time its buffer fills, so the reply size is not bounded
 * by RAM. Frames are COBS-encoded straight from the transmit buffer into the send hook.
 *
 * Threading: every entry point (feed, poll_levels, hello) must run in one context (the main loop);
 * the hooks run inside them and must not call these entry points themselves. Nothing here is safe
 * to call from an interrupt.
 */
#ifndef ORGAN_LINK_H
#define ORGAN_LINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORGAN_LINK_PROTOCOL_VERSION 1u

/* Decoded-frame buffer sizes in bytes (header + payload + CRC). A PROCESS request carries
 * (ORGAN_LINK_RX_MAX - 7) / 2 samples at most; INFO reports that number. */
#ifndef ORGAN_LINK_RX_MAX
#if defined(__AVR__)
#define ORGAN_LINK_RX_MAX 136u
#else
#define ORGAN_LINK_RX_MAX 253u
#endif
#endif
#ifndef ORGAN_LINK_TX_MAX
#if defined(__AVR__)
#define ORGAN_LINK_TX_MAX 64u
#else
#define ORGAN_LINK_TX_MAX 253u
#endif
#endif

#define ORGAN_LINK_HEADER_SIZE 4u
#define ORGAN_LINK_CRC_SIZE 2u
#define ORGAN_LINK_OVERHEAD (ORGAN_LINK_HEADER_SIZE + ORGAN_LINK_CRC_SIZE)
#define ORGAN_LINK_INFO_SIZE 53u          /* INFO payload bytes */
#define ORGAN_LINK_NAME_MAX 16u           /* characters in a board or band name */
#define ORGAN_LINK_HASH_SIZE 32u          /* sha256 of the design */
#define ORGAN_LINK_MAX_SAMPLES ((ORGAN_LINK_RX_MAX - ORGAN_LINK_OVERHEAD - 1u) / 2u)
#define ORGAN_LINK_LEVELS_MIN_MS 10u
#define ORGAN_LINK_LEVELS_MAX_MS 60000u

/* Frames at most 253 bytes keep every COBS block below the 254-byte limit, so encoding is
 * unique (no 0xFF code) and the C and Python codecs agree byte for byte. */
#if ORGAN_LINK_RX_MAX > 253 || ORGAN_LINK_TX_MAX > 253
#error "organ_link: frame buffers are limited to 253 bytes"
#endif
#if ORGAN_LINK_TX_MAX < ORGAN_LINK_INFO_SIZE + ORGAN_LINK_OVERHEAD
#error "organ_link: ORGAN_LINK_TX_MAX must hold an INFO frame (59 bytes)"
#endif
#if ORGAN_LINK_RX_MAX < 16
#error "organ_link: ORGAN_LINK_RX_MAX too small"
#endif

/* Message types: host -> device commands */
#define ORGAN_MSG_PING 0x01u
#define ORGAN_MSG_INFO 0x02u
#define ORGAN_MSG_PROCESS 0x03u
#define ORGAN_MSG_LEVELS 0x04u
#define ORGAN_MSG_GET 0x05u
#define ORGAN_MSG_SET 0x06u
#define ORGAN_MSG_SAVE 0x07u
#define ORGAN_MSG_RESET 0x08u
/* device -> host */
#define ORGAN_MSG_HELLO 0x80u
#define ORGAN_MSG_PONG 0x81u
#define ORGAN_MSG_INFO_REPLY 0x82u
#define ORGAN_MSG_NAME 0x83u
#define ORGAN_MSG_DATA 0x84u
#define ORGAN_MSG_DONE 0x85u
#define ORGAN_MSG_ACK 0x86u
#define ORGAN_MSG_LEVELS_DATA 0x87u
#define ORGAN_MSG_VALUE 0x88u
#define ORGAN_MSG_ERROR 0xFFu

/* Status codes: returned by hooks, sent in ERROR frames (0 is never sent). */
typedef uint8_t organ_link_status_t;
#define ORGAN_LINK_OK 0u
#define ORGAN_LINK_E_BAD_VERSION 1u     /* frame carries another protocol version */
#define ORGAN_LINK_E_UNKNOWN_COMMAND 2u /* type not a command this firmware knows */
#define ORGAN_LINK_E_BAD_LENGTH 3u      /* payload length wrong for the command */
#define ORGAN_LINK_E_BAD_ARGUMENT 4u    /* reserved flag bits, unknown RESET kind */
#define ORGAN_LINK_E_UNKNOWN_PARAM 5u   /* GET/SET: no parameter with this id */
#define ORGAN_LINK_E_OUT_OF_RANGE 6u    /* SET value or LEVELS period outside its bounds */
#define ORGAN_LINK_E_STORE_FAILED 7u    /* SAVE could not write the storage */
#define ORGAN_LINK_E_UNSUPPORTED 8u     /* this board has no such feature (hook absent) */
#define ORGAN_LINK_E_APP_FAILED 9u      /* application misbehaved (wrong result size, ...) */
#define ORGAN_LINK_E_CONFIG 10u         /* organ_link_init only: hooks or sizes inconsistent */

/* NAME frame kinds */
#define ORGAN_LINK_NAME_BOARD 0u
#define ORGAN_LINK_NAME_BAND 1u

/* Value formats of y and env in band records */
#define ORGAN_LINK_VALUES_INT16 0u   /* int16 LE, Q formats given by INFO's frac bits */
#define ORGAN_LINK_VALUES_FLOAT32 1u /* IEEE-754 binary32 LE (ORGAN_FLOAT builds) */

/* PROCESS flags */
#define ORGAN_LINK_PROCESS_FROM_RESET 0x01u /* reset filter and envelope state before the block */

/* RESET kinds */
#define ORGAN_LINK_RESET_STATE 0u  /* filter and envelope state to zero */
#define ORGAN_LINK_RESET_PARAMS 1u /* runtime parameters to the design defaults (RAM only) */
#define ORGAN_LINK_RESET_REBOOT 2u /* restart the board after the ACK; HELLO follows */

/* The streaming writer a hook uses to emit PROCESS results and LEVELS records. */
typedef struct organ_link_writer {
    uint8_t buf[ORGAN_LINK_TX_MAX]; /* decoded frame under construction */
    uint8_t len;                    /* bytes in buf, 0 = no frame open */
    uint8_t mode;                   /* idle, single frame, or chunked stream */
    uint8_t type;
    uint8_t seq;
    uint8_t chunk;                  /* next chunk index of a stream (mod 256) */
    uint8_t overflow;               /* a single frame outgrew buf: it will not be sent */
    uint16_t chunks;                /* frames sent by the current stream */
    uint16_t bytes;                 /* payload bytes put into the current stream */
} organ_link_writer_t;

/* What INFO and HELLO report; filled by the application. */
typedef struct {
    uint8_t fw_version[3];                   /* major, minor, patch */
    uint32_t fs_millihz;                     /* sample rate in mHz (19230769 = 19230.769 Hz) */
    uint8_t n_bands;                         /* 1..ORGAN_LINK_MAX_BANDS */
    uint8_t value_format;                    /* ORGAN_LINK_VALUES_* */
    uint8_t y_frac_bits;                     /* int16 y is Q(15-n).n: value / 2^n; 0 for float */
    uint8_t env_frac_bits;                   /* same for env */
    uint8_t params_status;                   /* ORGAN_STORE_* status from boot */
    uint8_t design_hash[ORGAN_LINK_HASH_SIZE];
} organ_link_info_t;

#define ORGAN_LINK_MAX_BANDS 32u

/*
 * The application, seen from the link. Every hook gets `ctx` first. Required: send, info, name.
 * Optional hooks may be NULL: the command then answers ERROR UNSUPPORTED.
 */
typedef struct {
    /* Write n raw bytes to the serial port (may block until there is room). */
    void (*send)(void *ctx, const uint8_t *data, uint8_t n);
    /* Fill *info. Called at init, for HELLO and for each INFO. */
    void (*info)(void *ctx, organ_link_info_t *info);
    /* Copy a name (kind ORGAN_LINK_NAME_BOARD index 0, or ORGAN_LINK_NAME_BAND index i) into
     * buf (at most cap bytes, no terminator needed); return its length. */
    uint8_t (*name)(void *ctx, uint8_t kind, uint8_t index, char *buf, uint8_t cap);
    /* Sample-overrun counter of the live audio path (NULL: reported as 0). */
    uint32_t (*overruns)(void *ctx);
    /* Run n samples (little-endian int16 at samples_le, read them with organ_link_sample) through
     * the same code as live audio, live audio paused meanwhile; reset state first when flags has
     * ORGAN_LINK_PROCESS_FROM_RESET. For each sample, for each band, write one band record with
     * organ_link_put_band (int16) or organ_link_put_band_f32 (float): exactly
     * n * n_bands records, or the link answers ERROR APP_FAILED. */
    organ_link_status_t (*process)(void *ctx, const uint8_t *samples_le, uint8_t n, uint8_t flags,
                                   organ_link_writer_t *w);
    /* Runtime parameters by id: OK, ORGAN_LINK_E_UNKNOWN_PARAM or ORGAN_LINK_E_OUT_OF_RANGE
     * (set must bounds-check and leave the parameter unchanged when it refuses). */
    organ_link_status_t (*param_get)(void *ctx, uint8_t id, int32_t *value);
    organ_link_status_t (*param_set)(void *ctx, uint8_t id, int32_t value);
    /* Persist the runtime parameters (organ_store_save): OK or ORGAN_LINK_E_STORE_FAILED. */
    organ_link_status_t (*save)(void *ctx);
    /* ORGAN_LINK_RESET_*: must return; a reboot is scheduled, to happen once the ACK is out. */
    organ_link_status_t (*reset)(void *ctx, uint8_t what);
    /* Told the new LEVELS period in ms (0 = off); may refuse with ORGAN_LINK_E_OUT_OF_RANGE. */
    organ_link_status_t (*levels_rate)(void *ctx, uint16_t period_ms);
    /* Write one band record per band (current envelope and LED; y = last filter output). */
    void (*levels)(void *ctx, organ_link_writer_t *w);
} organ_link_hooks_t;

typedef struct organ_link {
    const organ_link_hooks_t *hooks;
    void *ctx;
    uint8_t rx[ORGAN_LINK_RX_MAX]; /* decoded bytes of the frame being received */
    uint8_t rx_len;
    uint8_t rx_left;               /* bytes left in the current COBS block, 0 = expect a code */
    uint8_t rx_flags;              /* private RX_* state bits */
    uint8_t n_bands;               /* cached from info at init */
    uint8_t record_size;           /* bytes per band record: 5 (int16) or 9 (float32) */
    uint8_t levels_seq;            /* seq of the LEVELS command that started the stream */
    uint8_t levels_due;            /* send at the next poll regardless of the clock */
    uint16_t levels_period_ms;     /* 0 = LEVELS stream off */
    uint16_t levels_last_ms;
    uint16_t levels_counter;
    uint16_t bad_frames;           /* bad COBS, bad CRC, too short, length mismatch (saturating) */
    uint16_t oversized_frames;     /* longer than ORGAN_LINK_RX_MAX, dropped (saturating) */
    uint16_t app_errors;           /* hook misbehaviour (result size, frame overflow) */
    organ_link_writer_t w;
} organ_link_t;

/* Bind the link to the application. Returns ORGAN_LINK_OK, or ORGAN_LINK_E_CONFIG when a required
 * hook is missing, the band count is 0 or above ORGAN_LINK_MAX_BANDS, or a LEVELS frame would not
 * fit ORGAN_LINK_TX_MAX. */
organ_link_status_t organ_link_init(organ_link_t *l, const organ_link_hooks_t *hooks, void *ctx);

/* Send the HELLO frame (call once at boot, when the board is ready for commands). */
void organ_link_hello(organ_link_t *l);

/* Feed received bytes; complete frames are handled (and answered) before this returns. */
void organ_link_feed(organ_link_t *l, const uint8_t *data, size_t n);

/* Emit a LEVELS frame when one is due. now_ms: a free-running millisecond clock (wraps). */
void organ_link_poll_levels(organ_link_t *l, uint16_t now_ms);

/* Writer helpers for hooks: values are written little-endian. */
void organ_link_put_u8(organ_link_writer_t *w, uint8_t v);
void organ_link_put_u16(organ_link_writer_t *w, uint16_t v);
void organ_link_put_u32(organ_link_writer_t *w, uint32_t v);
void organ_link_put_f32(organ_link_writer_t *w, float v);
/* One band record: y, env (int16 LE), led (0..255): 5 bytes. */
void organ_link_put_band(organ_link_writer_t *w, int16_t y, int16_t env, uint8_t led);
/* One band record of the float variant: y, env (binary32 LE), led: 9 bytes. */
void organ_link_put_band_f32(organ_link_writer_t *w, float y, float env, uint8_t led);

/* Sample i of a PROCESS block (two's complement int16, little-endian). */
static inline int16_t organ_link_sample(const uint8_t *samples_le, uint8_t i)
{
    uint16_t u = (uint16_t)(samples_le[2u * i] | ((uint16_t)samples_le[2u * i + 1u] << 8));
    /* implementation-defined conversion; every target we build for wraps modulo 2^16 */
    return (int16_t)u;
}

/* CRC-16/CCITT-FALSE update of crc over n bytes (start with 0xFFFF). Shared with organ_store. */
uint16_t organ_link_crc16(uint16_t crc, const uint8_t *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ORGAN_LINK_H */
