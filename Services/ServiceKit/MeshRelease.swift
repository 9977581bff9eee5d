/// The mesh's release version: the one place it is written. Every executable (`mesh` and each service)
/// prints it for `--version` through its `CommandConfiguration`, so an operator can tell which release each
/// process runs.
public enum MeshRelease {
    /// Semantic version of this release of the mesh.
    public static let version = "0.10.0"
}
