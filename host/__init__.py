"""Host tool: talks to a color organ board (real or simulated) over its serial link."""
