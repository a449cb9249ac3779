// The ztunnel reference binary: wiring of SwiftMesh libraries only. Not implemented yet.
import Foundation

FileHandle.standardError.write(Data("ztunnel: not implemented yet\n".utf8))
exit(2)
