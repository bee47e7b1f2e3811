/*
 * Stub of the Arduino-ESP32 API that the generated src/main.cpp uses, for a host
 * `g++ -fsyntax-only` check (no ESP32 compiler exists here). Every declaration copies the
 * signature of Arduino-ESP32 2.0.x (cores/esp32 headers, ESP-IDF 4.4 headers), or of 3.x when
 * STUB_CORE_MAJOR is 3, so a call that does not match the real core fails to compile here.
 * Declarations only: nothing is linked.
 */
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef STUB_CORE_MAJOR
#define STUB_CORE_MAJOR 2
#endif
#define ESP_ARDUINO_VERSION_MAJOR STUB_CORE_MAJOR

/* esp_err.h */
typedef int esp_err_t;
#define ESP_OK 0

/* FreeRTOS (freertos/FreeRTOS.h, task.h, queue.h, portmacro.h) */
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef uint32_t TickType_t;
typedef void *TaskHandle_t;
typedef void *QueueHandle_t;
typedef void (*TaskFunction_t)(void *);
#define pdTRUE ((BaseType_t)1)
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define configMAX_PRIORITIES (25)
typedef struct {
    uint32_t owner;
    uint32_t count;
} portMUX_TYPE;
#define portMUX_INITIALIZER_UNLOCKED {0xB33FFFFF, 0}
void vPortEnterCritical(portMUX_TYPE *mux);
void vPortExitCritical(portMUX_TYPE *mux);
#define portENTER_CRITICAL(mux) vPortEnterCritical(mux)
#define portEXIT_CRITICAL(mux) vPortExitCritical(mux)
BaseType_t xQueueReceive(QueueHandle_t xQueue, void *const pvBuffer, TickType_t xTicksToWait);
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t pvTaskCode, const char *const pcName,
                                   const uint32_t usStackDepth, void *const pvParameters,
                                   UBaseType_t uxPriority, TaskHandle_t *const pvCreatedTask,
                                   const BaseType_t xCoreID);

/* esp32-hal-gpio.h, esp32-hal.h */
#define LOW 0x0
#define HIGH 0x1
#define OUTPUT 0x03
extern "C" {
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
unsigned long millis();
void delay(uint32_t);
void enableLoopWDT();
void feedLoopWDT();
}

/* esp32-hal-ledc.h */
extern "C" {
#if STUB_CORE_MAJOR >= 3
bool ledcAttach(uint8_t pin, uint32_t freq, uint8_t resolution);
bool ledcWrite(uint8_t pin, uint32_t duty);
#else
double ledcSetup(uint8_t channel, double freq, uint8_t resolution_bits);
void ledcWrite(uint8_t channel, uint32_t duty);
void ledcAttachPin(uint8_t pin, uint8_t channel);
#endif
}

/* HardwareSerial.h */
class HardwareSerial {
public:
    void begin(unsigned long baud, uint32_t config = 0x800001c, int8_t rxPin = -1,
               int8_t txPin = -1, bool invert = false, unsigned long timeout_ms = 20000UL,
               uint8_t rxfifo_full_thrhd = 112);
    int read(void);
    void flush(void);
    size_t write(const uint8_t *buffer, size_t size);
    size_t setRxBufferSize(size_t new_size);
};
extern HardwareSerial Serial;

/* Esp.h */
class EspClass {
public:
    void restart();
};
extern EspClass ESP;
