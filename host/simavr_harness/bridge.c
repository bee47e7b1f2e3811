/*
 * bridge.c - UART0 of the simulated ATmega328P on a pseudo-terminal, in the harness's own thread.
 *
 * libsimavrparts' uart_pty runs a thread and hangs in pthread_join when stopped; this bridge is
 * polled from the run loop instead. The pty's slave side is made raw and held open by the harness:
 * a cooked tty would echo the firmware's output back into its input, and a client closing the
 * port would otherwise hang the master up (clients may close and reopen, as with a USB adapter).
 *
 * Host -> board: bytes are put on the simulated wire one per UART frame time (the firmware's baud
 * rate, 10 bits per byte), from a cycle timer. A real ATmega328P holds two received bytes plus the
 * one being shifted in; simavr's receive FIFO holds 64. Unless --uart-ideal, a byte arriving while
 * three wait unread is dropped and counted (rx_overruns), as the hardware's data overrun would.
 * Board -> host: every byte the firmware transmits (simavr paces UDRE at the baud rate) goes to a
 * ring that the run loop writes to the pty; bytes nobody reads are kept up to TX_RING, then lost.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "avr_uart.h"
#include "harness.h"

#define RX_RING (64u * 1024u)
#define TX_RING (256u * 1024u)
#define HW_RX_DEPTH 3u /* UDR0's two-byte FIFO plus the receive shift register */

static void on_tx(struct avr_irq_t *irq, uint32_t value, void *param)
{
    bridge_t *b = param;
    (void)irq;
    b->tx_bytes++;
    b->last_activity = b->avr->cycle;
    if (b->master < 0) {
        return; /* offline run: the firmware talks to nobody */
    }
    if (b->tx_len == TX_RING) {
        b->tx_dropped++;
        return;
    }
    b->tx[(b->tx_head + b->tx_len) % TX_RING] = (uint8_t)value;
    b->tx_len++;
}

/* bytes waiting in simavr's receive FIFO (fifo_declare.h's accessor is only in avr_uart.c) */
static unsigned rx_waiting(const avr_uart_t *u)
{
    return (unsigned)((u->input.write + uart_fifo_fifo_size - u->input.read) &
                      (uart_fifo_fifo_size - 1));
}

static avr_cycle_count_t feed_next(avr_t *avr, avr_cycle_count_t when, void *param)
{
    bridge_t *b = param;
    uint8_t byte;
    (void)avr;
    if (b->rx_len == 0) {
        b->feeding = 0;
        return 0;
    }
    byte = b->rx[b->rx_head];
    b->rx_head = (b->rx_head + 1) % RX_RING;
    b->rx_len--;
    if (!b->ideal && rx_waiting(b->uart) >= HW_RX_DEPTH) {
        b->rx_overruns++;
    } else {
        avr_raise_irq(b->uart_in, byte);
        b->rx_bytes++;
    }
    b->last_activity = when;
    return when + (b->uart->cycles_per_byte ? b->uart->cycles_per_byte : 320);
}

static struct avr_uart_t *find_uart0(avr_t *avr)
{
    avr_io_t *io;
    for (io = avr->io_port; io; io = io->next) {
        if (io->kind && !strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == '0') {
            return (avr_uart_t *)io;
        }
    }
    return NULL;
}

static int open_pty(bridge_t *b)
{
    struct termios t;
    const char *p;
    b->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (b->master < 0 || grantpt(b->master) != 0 || unlockpt(b->master) != 0) {
        return -1;
    }
    p = ptsname(b->master);
    if (!p || strlen(p) >= sizeof b->name) {
        return -1;
    }
    strcpy(b->name, p);
    b->slave = open(b->name, O_RDWR | O_NOCTTY);
    if (b->slave < 0 || tcgetattr(b->slave, &t) != 0) {
        return -1;
    }
    cfmakeraw(&t);
    if (tcsetattr(b->slave, TCSANOW, &t) != 0) {
        return -1;
    }
    return fcntl(b->master, F_SETFL, fcntl(b->master, F_GETFL) | O_NONBLOCK);
}

int bridge_open(bridge_t *b, avr_t *avr, int with_pty, int ideal)
{
    uint32_t flags = 0; /* no console echo of the firmware's output, no usleep when it polls */
    memset(b, 0, sizeof *b);
    b->master = b->slave = -1;
    b->avr = avr;
    b->ideal = ideal;
    b->uart = find_uart0(avr);
    if (!b->uart) {
        fprintf(stderr, "simavr_harness: the MCU has no UART0\n");
        return -1;
    }
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    b->uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            on_tx, b);
    b->rx = malloc(RX_RING);
    b->tx = malloc(TX_RING);
    if (!b->rx || !b->tx) {
        return -1;
    }
    if (with_pty && open_pty(b) != 0) {
        fprintf(stderr, "simavr_harness: cannot open a pty: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int flush_tx(bridge_t *b)
{
    while (b->tx_len > 0) {
        size_t chunk = TX_RING - b->tx_head;
        ssize_t w;
        if (chunk > b->tx_len) {
            chunk = b->tx_len;
        }
        w = write(b->master, b->tx + b->tx_head, chunk);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == EIO) {
                return 0; /* the pty is full, or nobody has it open: keep the bytes */
            }
            return -1;
        }
        b->tx_head = (b->tx_head + (size_t)w) % TX_RING;
        b->tx_len -= (size_t)w;
    }
    return 0;
}

static int read_rx(bridge_t *b)
{
    while (b->rx_len < RX_RING) {
        size_t tail = (b->rx_head + b->rx_len) % RX_RING;
        size_t room = RX_RING - b->rx_len;
        ssize_t n;
        if (room > RX_RING - tail) {
            room = RX_RING - tail;
        }
        n = read(b->master, b->rx + tail, room);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != EIO) {
                return -1;
            }
            break;
        }
        b->rx_len += (size_t)n;
    }
    if (b->rx_len && !b->feeding) {
        b->feeding = 1;
        avr_cycle_timer_register(b->avr, b->uart->cycles_per_byte ? b->uart->cycles_per_byte : 320,
                                 feed_next, b);
    }
    return 0;
}

int bridge_busy(const bridge_t *b, uint64_t busy_cycles)
{
    return b->rx_len > 0 || b->tx_len > 0 || b->avr->cycle - b->last_activity < busy_cycles;
}

int bridge_service(bridge_t *b)
{
    if (b->master < 0) {
        b->tx_len = 0;
        return 0;
    }
    if (flush_tx(b) != 0 || read_rx(b) != 0) {
        fprintf(stderr, "simavr_harness: pty error: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

void bridge_close(bridge_t *b)
{
    if (b->slave >= 0) {
        close(b->slave);
    }
    if (b->master >= 0) {
        close(b->master);
    }
    free(b->rx);
    free(b->tx);
    b->rx = b->tx = NULL;
}
