#if canImport(Glibc)
import Glibc
#endif

/// Process-wide glibc malloc settings for programs that stream large buffers (a node moving
/// hundreds of MB/s through 64–256 KiB buffers).
///
/// By default glibc serves allocations of 128 KiB and more with fresh `mmap`s and returns freed
/// heap tops to the kernel eagerly, so a busy stream page-faults on every buffer (measured: about
/// a tenth of all cycles went to page faults, and single-stream throughput roughly doubled with
/// these settings; see BENCHMARKS.md). Executables call `apply()` once at start; libraries never do.
public enum AllocatorTuning {
    /// Allocations below this come from the heap rather than a fresh mapping.
    public static let mmapThreshold: Int32 = 8 << 20
    /// Free heap kept before trimming it back to the kernel.
    public static let trimThreshold: Int32 = 128 << 20
    /// Extra heap requested per growth.
    public static let topPad: Int32 = 16 << 20

    /// `mallopt` parameter numbers from glibc's `<malloc.h>` (not exported by the Glibc module).
    static let mTrimThreshold: Int32 = -1
    static let mTopPad: Int32 = -2
    static let mMmapThreshold: Int32 = -3

    /// Applies the settings (no-op where glibc's `mallopt` is not available).
    public static func apply() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(mMmapThreshold, mmapThreshold)
        _ = mallopt(mTrimThreshold, trimThreshold)
        _ = mallopt(mTopPad, topPad)
        #endif
    }
}
