"""The demo: Thanh Hóa's registry, its event, and a simulated morning."""
