/* Stub of ESP-IDF 4.4 driver/i2s.h + hal/i2s_types.h + driver/adc.h as bundled with
 * Arduino-ESP32 2.0.x (the types and calls main.cpp uses). */
#pragma once
#include "Arduino.h"
typedef enum { I2S_NUM_0 = 0, I2S_NUM_1 = 1, I2S_NUM_MAX } i2s_port_t;
typedef enum {
    I2S_MODE_MASTER = (0x1 << 0),
    I2S_MODE_SLAVE = (0x1 << 1),
    I2S_MODE_TX = (0x1 << 2),
    I2S_MODE_RX = (0x1 << 3),
    I2S_MODE_DAC_BUILT_IN = (0x1 << 4),
    I2S_MODE_ADC_BUILT_IN = (0x1 << 5),
    I2S_MODE_PDM = (0x1 << 6),
} i2s_mode_t;
typedef enum {
    I2S_BITS_PER_SAMPLE_8BIT = 8,
    I2S_BITS_PER_SAMPLE_16BIT = 16,
    I2S_BITS_PER_SAMPLE_24BIT = 24,
    I2S_BITS_PER_SAMPLE_32BIT = 32,
} i2s_bits_per_sample_t;
typedef enum { I2S_BITS_PER_CHAN_DEFAULT = 0 } i2s_bits_per_chan_t;
typedef enum {
    I2S_CHANNEL_FMT_RIGHT_LEFT,
    I2S_CHANNEL_FMT_ALL_RIGHT,
    I2S_CHANNEL_FMT_ALL_LEFT,
    I2S_CHANNEL_FMT_ONLY_RIGHT,
    I2S_CHANNEL_FMT_ONLY_LEFT,
} i2s_channel_fmt_t;
typedef enum {
    I2S_COMM_FORMAT_STAND_I2S = 0X01,
    I2S_COMM_FORMAT_STAND_MSB = 0X03,
} i2s_comm_format_t;
typedef enum { I2S_MCLK_MULTIPLE_DEFAULT = 0 } i2s_mclk_multiple_t;
typedef struct {
    i2s_mode_t mode;
    uint32_t sample_rate;
    i2s_bits_per_sample_t bits_per_sample;
    i2s_channel_fmt_t channel_format;
    i2s_comm_format_t communication_format;
    int intr_alloc_flags;
    int dma_buf_count;
    int dma_buf_len;
    bool use_apll;
    bool tx_desc_auto_clear;
    int fixed_mclk;
    i2s_mclk_multiple_t mclk_multiple;
    i2s_bits_per_chan_t bits_per_chan;
} i2s_driver_config_t;
typedef i2s_driver_config_t i2s_config_t;
#define I2S_PIN_NO_CHANGE (-1)
typedef struct {
    int mck_io_num;
    int bck_io_num;
    int ws_io_num;
    int data_out_num;
    int data_in_num;
} i2s_pin_config_t;
typedef enum {
    I2S_EVENT_DMA_ERROR,
    I2S_EVENT_TX_DONE,
    I2S_EVENT_RX_DONE,
    I2S_EVENT_TX_Q_OVF,
    I2S_EVENT_RX_Q_OVF,
    I2S_EVENT_MAX,
} i2s_event_type_t;
typedef struct {
    i2s_event_type_t type;
    size_t size;
} i2s_event_t;
typedef enum { ADC_UNIT_1 = 1, ADC_UNIT_2 = 2 } adc_unit_t;
typedef enum {
    ADC1_CHANNEL_0 = 0, ADC1_CHANNEL_1, ADC1_CHANNEL_2, ADC1_CHANNEL_3,
    ADC1_CHANNEL_4, ADC1_CHANNEL_5, ADC1_CHANNEL_6, ADC1_CHANNEL_7, ADC1_CHANNEL_MAX,
} adc1_channel_t;
extern "C" {
esp_err_t i2s_driver_install(i2s_port_t i2s_num, const i2s_config_t *i2s_config, int queue_size,
                             void *i2s_queue);
esp_err_t i2s_set_pin(i2s_port_t i2s_num, const i2s_pin_config_t *pin);
esp_err_t i2s_read(i2s_port_t i2s_num, void *dest, size_t size, size_t *bytes_read,
                   TickType_t ticks_to_wait);
esp_err_t i2s_set_adc_mode(adc_unit_t adc_unit, adc1_channel_t adc_channel);
esp_err_t i2s_adc_enable(i2s_port_t i2s_num);
}
