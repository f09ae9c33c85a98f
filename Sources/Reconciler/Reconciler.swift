import Specs
import CLibGit2
