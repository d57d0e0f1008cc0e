"""The ribbon add-in and the command line (`stmodel`): front doors onto the engine."""
