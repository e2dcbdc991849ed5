"""What SDKs send and expect on the wire."""
