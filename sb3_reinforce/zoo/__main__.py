from sb3_reinforce.zoo.cli import main

main()
