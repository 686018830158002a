"""WebSocket shells: the point and console sockets, frames, fan-out, firing reports."""
