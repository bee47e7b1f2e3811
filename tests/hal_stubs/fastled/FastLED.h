/* Stub of FastLED 3.6 (the calls main.cpp uses): CRGB, addLeds<WS2812B, PIN, GRB>, show. */
#pragma once
#include <stdint.h>
struct CRGB {
    uint8_t r, g, b;
    CRGB() : r(0), g(0), b(0) {}
    CRGB(uint8_t ir, uint8_t ig, uint8_t ib) : r(ir), g(ig), b(ib) {}
};
enum EOrder { RGB = 0012, GRB = 0102 };
template <uint8_t DATA_PIN, EOrder RGB_ORDER> class WS2812B {};
class CLEDController {};
class CFastLED {
public:
    template <template <uint8_t DATA_PIN, EOrder RGB_ORDER> class CHIPSET, uint8_t DATA_PIN,
              EOrder RGB_ORDER>
    CLEDController &addLeds(struct CRGB *data, int nLedsOrOffset, int nLedsIfOffset = 0);
    void show();
};
extern CFastLED FastLED;
