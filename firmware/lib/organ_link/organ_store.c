/*
 * organ_store: versioned, CRC-checked parameter image. See organ_store.h for the layout.
 */
#include "organ_store.h"

#include "organ_link.h"

static const uint8_t magic[4] = {'O', 'R', 'G', 'P'};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* An erased (0xFF) or zeroed header: nothing was ever saved here. */
static uint8_t blank(const uint8_t *head)
{
    uint8_t i;
    for (i = 1; i < ORGAN_STORE_HEADER_SIZE; ++i) {
        if (head[i] != head[0]) {
            return 0;
        }
    }
    return (uint8_t)(head[0] == 0xFFu || head[0] == 0x00u);
}

uint32_t organ_store_tag(const uint8_t *design_hash)
{
    return le32(design_hash);
}

/* Read (or write) n bytes at *addr, fold them into *crc, advance *addr. Returns 0 on success. */
static uint8_t xfer(const organ_store_io_t *io, uint16_t *addr, uint16_t *crc, uint8_t *buf,
                    uint8_t n, uint8_t write)
{
    uint8_t err;
    if (write) {
        *crc = organ_link_crc16(*crc, buf, n);
        err = io->write(io->ctx, *addr, buf, n);
    } else {
        err = io->read(io->ctx, *addr, buf, n);
        *crc = organ_link_crc16(*crc, buf, n);
    }
    *addr = (uint16_t)(*addr + n);
    return err;
}

organ_store_status_t organ_store_load(const organ_store_io_t *io, uint32_t design_tag,
                                      organ_store_apply_fn apply, void *app)
{
    uint8_t head[ORGAN_STORE_HEADER_SIZE];
    uint8_t rec[ORGAN_STORE_RECORD_SIZE];
    uint16_t crc = 0xFFFFu;
    uint16_t addr = io->base;
    uint8_t count;
    uint8_t pass;
    uint8_t i;
    if (io->size < ORGAN_STORE_IMAGE_SIZE(0u) ||
        xfer(io, &addr, &crc, head, ORGAN_STORE_HEADER_SIZE, 0) != 0) {
        return ORGAN_STORE_CORRUPT;
    }
    for (i = 0; i < 4u; ++i) {
        if (head[i] != magic[i]) {
            return blank(head) ? ORGAN_STORE_ABSENT : ORGAN_STORE_CORRUPT;
        }
    }
    if (head[4] != ORGAN_STORE_VERSION) {
        return ORGAN_STORE_OLD_VERSION;
    }
    count = head[5];
    if (count > ORGAN_STORE_MAX_RECORDS || ORGAN_STORE_IMAGE_SIZE((uint16_t)count) > io->size) {
        return ORGAN_STORE_CORRUPT;
    }
    /* pass 0 checks the CRC (residue 0 over records and stored CRC), pass 1 applies the records:
     * re-reading the medium is cheaper than a RAM copy of the image */
    for (pass = 0; pass < 2u; ++pass) {
        addr = (uint16_t)(io->base + ORGAN_STORE_HEADER_SIZE);
        for (i = 0; i < count; ++i) {
            if (xfer(io, &addr, &crc, rec, ORGAN_STORE_RECORD_SIZE, 0) != 0) {
                return ORGAN_STORE_CORRUPT;
            }
            /* implementation-defined conversion; every target we build for wraps modulo 2^32 */
            if (pass && apply(app, rec[0], (int32_t)le32(rec + 1)) != 0) {
                return ORGAN_STORE_REJECTED;
            }
        }
        if (!pass) {
            if (xfer(io, &addr, &crc, rec, 2u, 0) != 0 || crc != 0) {
                return ORGAN_STORE_CORRUPT;
            }
            if (le32(head + 6) != design_tag) {
                return ORGAN_STORE_OTHER_DESIGN;
            }
        }
    }
    return ORGAN_STORE_LOADED;
}

uint8_t organ_store_save(const organ_store_io_t *io, uint32_t design_tag,
                         const organ_store_record_t *records, uint8_t n)
{
    uint8_t buf[ORGAN_STORE_HEADER_SIZE];
    uint16_t crc = 0xFFFFu;
    uint16_t addr = io->base;
    uint8_t i;
    if (n > ORGAN_STORE_MAX_RECORDS || ORGAN_STORE_IMAGE_SIZE((uint16_t)n) > io->size) {
        return 1;
    }
    for (i = 0; i < 4u; ++i) {
        buf[i] = magic[i];
    }
    buf[4] = ORGAN_STORE_VERSION;
    buf[5] = n;
    put_le32(buf + 6, design_tag);
    if (xfer(io, &addr, &crc, buf, ORGAN_STORE_HEADER_SIZE, 1) != 0) {
        return 2;
    }
    for (i = 0; i < n; ++i) {
        buf[0] = records[i].id;
        put_le32(buf + 1, (uint32_t)records[i].value);
        if (xfer(io, &addr, &crc, buf, ORGAN_STORE_RECORD_SIZE, 1) != 0) {
            return 2;
        }
    }
    buf[0] = (uint8_t)(crc >> 8);
    buf[1] = (uint8_t)crc;
    return xfer(io, &addr, &crc, buf, 2u, 1) != 0 ? 2u : 0u;
}
