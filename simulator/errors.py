"""One error type for bad user input, formatted as ``file: key: message``."""


class ConfigError(ValueError):
    """Bad configuration or input file. The message names the file, the key and
    the allowed range so the CLI can print it without a traceback."""

    def __init__(self, source, key, message):
        self.source = str(source)
        self.key = key
        self.message = message
        where = f"{self.source}: {key}: " if key else f"{self.source}: "
        super().__init__(where + message)
