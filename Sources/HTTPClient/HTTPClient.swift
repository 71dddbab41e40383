/// Placeholder while the module is built out.
public enum HTTPClientModule {}
