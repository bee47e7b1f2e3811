/* Stub of Arduino-ESP32 2.0.x libraries/Preferences/src/Preferences.h (the calls main.cpp uses). */
#pragma once
#include "Arduino.h"
class Preferences {
public:
    bool begin(const char *name, bool readOnly = false, const char *partition_label = NULL);
    size_t putBytes(const char *key, const void *value, size_t len);
    size_t getBytes(const char *key, void *buf, size_t maxLen);
};
