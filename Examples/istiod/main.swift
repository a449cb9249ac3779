// The istiod reference binary: wiring of SwiftMesh libraries only. Not implemented yet.
import Foundation

FileHandle.standardError.write(Data("istiod: not implemented yet\n".utf8))
exit(2)
